// Starts a 3-member cluster of real etcd or of etcd-ts on loopback, waits until
// every member answers Maintenance.Status and they agree on a leader, and tears
// it down again. Every child is registered so it is killed even on Ctrl-C or a
// crash of the harness.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { statusOf } from './rpc';
import { MEMBER_NODE_FLAGS } from '../src/cli/gc-tuning';

export type SystemName = 'etcd-ts' | 'etcd';

export interface MemberInfo {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
}

export interface ClusterOptions {
  system: SystemName;
  size: number;
  /** First port used; members take clients at base+i and peers at base+10+i. */
  portBase: number;
  /** Parent directory for the fresh data directories (same disk as the project). */
  dataRoot: string;
  repoRoot: string;
}

/** Flags shared by both systems: etcd's own names, so etcd-ts parses the same CLI. */
function memberArgs(m: MemberInfo, all: MemberInfo[], token: string): string[] {
  return [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', m.clientUrl,
    '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', m.peerUrl,
    '--initial-advertise-peer-urls', m.peerUrl,
    '--initial-cluster', all.map((x) => `${x.name}=${x.peerUrl}`).join(','),
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', token,
    '--heartbeat-interval', '100',
    '--election-timeout', '1000',
  ];
}

/** How each system is started: real etcd is Debian's binary, etcd-ts is our CLI under node. */
export function commandFor(system: SystemName, repoRoot: string): { cmd: string; pre: string[] } {
  return system === 'etcd'
    ? { cmd: '/usr/bin/etcd', pre: [] }
    : { cmd: process.execPath, pre: [...MEMBER_NODE_FLAGS, path.join(repoRoot, 'bin', 'etcd-ts.js')] };
}

const live = new Set<ChildProcess>();
const dataRoots = new Set<string>();
let hooksInstalled = false;

/** Kills every child we started when the harness exits for any reason. */
function installCleanupHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dataRoots) fs.rmSync(d, { recursive: true, force: true });
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.stderr.write(`\nbench: ${sig}, members killed\n`);
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    killAll();
    process.stderr.write(`bench: ${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
}

export interface MemoryUse { rssMB: number; peakMB: number }

/** Current and peak resident memory of a process, from /proc (Linux). */
export function memoryOf(pid: number): MemoryUse | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86-64

export class Cluster {
  readonly members: MemberInfo[];
  private readonly children: ChildProcess[] = [];
  private readonly root: string;
  private exited: string | null = null;
  private paused = false;

  constructor(private readonly o: ClusterOptions) {
    this.root = fs.mkdtempSync(path.join(o.dataRoot, `${o.system}-`));
    dataRoots.add(this.root);
    this.members = Array.from({ length: o.size }, (_, i) => ({
      name: `m${i + 1}`,
      clientUrl: `http://127.0.0.1:${o.portBase + i}`,
      peerUrl: `http://127.0.0.1:${o.portBase + 10 + i}`,
      dataDir: path.join(this.root, `m${i + 1}.data`),
      logFile: path.join(this.root, `m${i + 1}.log`),
    }));
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid ?? -1);
  }

  start(): void {
    installCleanupHooks();
    const { cmd, pre } = commandFor(this.o.system, this.o.repoRoot);
    const token = `bench-${this.o.system}-${process.pid}-${Date.now()}`;
    for (const m of this.members) {
      const log = fs.openSync(m.logFile, 'a');
      const child = spawn(cmd, [...pre, ...memberArgs(m, this.members, token)], {
        cwd: this.o.repoRoot, stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
      live.add(child);
      child.on('exit', (code, sig) => {
        live.delete(child);
        this.exited ??= `${m.name} exited (code ${code}, signal ${sig}); log: ${m.logFile}`;
      });
      child.on('error', (err) => { this.exited ??= `${m.name} failed to start: ${err.message}`; });
      this.children.push(child);
    }
  }

  /** Waits until every member answers Status and all name the same leader;
   * returns the leader's client URL. */
  async waitHealthy(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(this.exited);
      try {
        return await this.leader();
      } catch (err) {
        // A server without Maintenance.Status will never look healthy: say so at once.
        if ((err as { code?: number }).code === grpc.status.UNIMPLEMENTED) {
          throw new Error(`Maintenance.Status is not implemented (${(err as Error).message}); the harness needs it to find the leader`);
        }
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${this.o.system} cluster not healthy after ${timeoutMs} ms: ${last}`);
  }

  /** Finds the leader with Maintenance.Status: the member whose own id equals the
   * leader id every member reports. */
  async leader(): Promise<string> {
    const statuses = await Promise.all(this.endpoints.map((ep) => statusOf(ep, 1500)));
    const leaders = new Set(statuses.map((s) => s.leader));
    const leaderId = statuses[0]?.leader ?? '0';
    if (leaders.size !== 1 || leaderId === '0') throw new Error(`members disagree on leader: ${[...leaders].join(',')}`);
    const idx = statuses.findIndex((s) => s.header.member_id === leaderId);
    if (idx < 0) throw new Error(`leader ${leaderId} is not one of our members`);
    return this.endpoints[idx]!;
  }

  /** Total CPU seconds used by all members so far. */
  cpuSeconds(): number {
    return this.pids.reduce((sum, pid) => sum + (pid > 0 ? cpuSecondsOf(pid) ?? 0 : 0), 0);
  }

  /** Last lines of each member's log: shown when a cluster fails, before its data goes. */
  logTails(lines: number): string {
    return this.members.map((m) => {
      let text = '';
      try { text = fs.readFileSync(m.logFile, 'utf8'); } catch { text = '(no log)'; }
      return `--- ${m.name} (${m.logFile})\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
    }).join('\n');
  }

  memory(): (MemoryUse | null)[] {
    return this.pids.map((pid) => (pid > 0 ? memoryOf(pid) : null));
  }

  /**
   * Freezes every member (SIGSTOP) while the other system is measured, and
   * thaws them (SIGCONT) afterwards. An idle cluster is not idle to its
   * neighbour on a 2-core VM: an idle etcd member wakes 290-460 times a
   * second, an etcd-ts member 50-60. All members freeze together, so Raft sees
   * no time pass but a tick or two (node's timers and Go's tickers drop
   * missed ticks).
   */
  pause(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM, then SIGKILL after a grace period; removes the data unless asked to keep it. */
  async stop(keepData = false): Promise<void> {
    // A frozen member would hold SIGTERM until the grace period ran out.
    this.resume();
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
      c.once('exit', () => { clearTimeout(timer); resolve(); });
      c.kill('SIGTERM');
    })));
    dataRoots.delete(this.root);
    if (!keepData) fs.rmSync(this.root, { recursive: true, force: true });
  }

  get dataPath(): string {
    return this.root;
  }
}
