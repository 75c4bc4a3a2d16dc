// Describes the machine a run happened on, from the same commands a reader would
// type (nproc, /proc/meminfo, df, etcd --version), so figures carry their context.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { MachineInfo } from './results';

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(dataDir: string, loadAvgStart: number): MachineInfo {
  const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  // Device, filesystem type and size of the disk holding the members' data dirs.
  const df = sh('df', ['-hT', dataDir]).split('\n')[1]?.split(/\s+/) ?? [];
  const device = df[0] ?? 'unknown';
  const rotational = sh('lsblk', ['-ndo', 'ROTA', device]);
  return {
    nproc: Number(sh('nproc', [])) || os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memTotalMB: Math.round(memKb / 1024),
    // ROTA is reported as-is: virtio disks say 1 whatever the backing storage is.
    disk: `${device} ${df[1] ?? ''} ${df[2] ?? ''} (lsblk ROTA=${rotational})`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    etcdVersion: sh('/usr/bin/etcd', ['--version']).split('\n')[0] ?? 'unknown',
    loadAvgStart,
    loadAvgEnd: os.loadavg()[0] ?? 0,
  };
}
