// Starting real clusters for tests: etcd-ts members as processes (the same
// command lines `npm run cluster` uses, on free loopback ports) or Debian's
// etcd as the oracle. Every wait is bounded; stop() kills what was started.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ClusterDef, memberArgs } from '../../src/cli/cluster-def';
import { loadEtcdProto } from '../../src/api/proto';
import { afterAll, beforeAll } from 'vitest';
import { freePorts } from './ports';
import { requireTool } from './tools';
import { BIN } from './process';

export interface RunningMember {
  name: string;
  clientPort: number;
  peerPort: number;
  endpoint: string;
  args: string[];
  proc: ChildProcess | undefined;
  log: string[];
}

export interface RunningCluster {
  kind: 'etcd-ts' | 'etcd';
  dir: string;
  members: RunningMember[];
  endpoints: string[];
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  restart(i: number): void;
  stop(): Promise<void>;
}

const clients: grpc.Client[] = [];

export function kvClient(endpoint: string, service = 'KV'): grpc.Client {
  const pkg = loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject;
  const Ctor = pkg[service] as grpc.ServiceClientConstructor;
  const c = new Ctor(endpoint, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

export function call<T>(c: grpc.Client, method: string, req: object, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fn = (c as unknown as Record<string, (r: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: Error | null, v: T) => void) => void>)[method]!;
    fn.call(c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, v) => (e ? reject(e) : resolve(v)));
  });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Waits until a linearizable read succeeds on every endpoint (a leader exists and all serve). */
export async function waitHealthy(endpoints: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const ep of endpoints) {
    const c = kvClient(ep);
    for (let attempt = 0; ; attempt++) {
      try {
        await call(c, 'Range', { key: Buffer.from('health') }, 2000);
        break;
      } catch (e) {
        if (Date.now() > deadline || attempt > 1000) throw new Error(`${ep} not healthy within ${timeoutMs} ms: ${(e as Error).message}`);
        await sleep(100);
      }
    }
    c.close();
  }
}

function launch(cmd: string, args: string[], cwd: string, log: string[]): ChildProcess {
  const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
  const keep = (d: Buffer) => {
    log.push(d.toString());
    if (log.length > 2000) log.splice(0, 1000);
  };
  p.stdout!.on('data', keep);
  p.stderr!.on('data', keep);
  return p;
}

async function startCluster(kind: 'etcd-ts' | 'etcd', size: number, extraArgs: string[], etcdBin?: string): Promise<RunningCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${kind}-cluster-`));
  const ports = await freePorts(size * 2);
  const def: ClusterDef = {
    token: `test-${path.basename(dir)}`,
    host: '127.0.0.1',
    dataRoot: dir,
    extraArgs,
    members: Array.from({ length: size }, (_, i) => ({ name: `m${i + 1}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! })),
  };
  const [cmd, prefix] = kind === 'etcd' ? [etcdBin!, [] as string[]] : [process.execPath, [BIN]];
  const members: RunningMember[] = def.members.map((m) => ({
    name: m.name,
    clientPort: m.clientPort,
    peerPort: m.peerPort,
    endpoint: `127.0.0.1:${m.clientPort}`,
    args: [...prefix, ...memberArgs(def, m)],
    proc: undefined,
    log: [],
  }));
  const cluster: RunningCluster = {
    kind,
    dir,
    members,
    endpoints: members.map((m) => m.endpoint),
    async kill(i, signal = 'SIGKILL') {
      const p = members[i]!.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill(signal);
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
    restart(i) {
      const m = members[i]!;
      m.proc = launch(cmd, m.args, dir, m.log);
    },
    async stop() {
      for (const c of clients.splice(0)) c.close();
      await Promise.all(members.map((_, i) => cluster.kill(i, 'SIGTERM')));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  members.forEach((_, i) => cluster.restart(i));
  try {
    await waitHealthy(cluster.endpoints);
  } catch (e) {
    const logs = members.map((m) => `--- ${m.name}\n${m.log.join('').slice(-3000)}`).join('\n');
    await cluster.stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  return cluster;
}

export function startEtsCluster(size: number, extraArgs: string[] = []): Promise<RunningCluster> {
  return startCluster('etcd-ts', size, extraArgs);
}

export function startRealEtcd(etcdBin: string, size: number, extraArgs: string[] = []): Promise<RunningCluster> {
  return startCluster('etcd', size, extraArgs, etcdBin);
}

/** Index of the member the cluster currently follows, by asking each for its Status. */
export async function leaderIndex(cluster: RunningCluster): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const ep of cluster.endpoints) {
      try {
        const s = await call<{ leader: string }>(kvClient(ep, 'Maintenance'), 'Status', {}, 2000);
        if (s.leader === '0') continue;
        for (const [i, other] of cluster.endpoints.entries()) {
          const o = await call<{ header: { member_id: string } }>(kvClient(other, 'Maintenance'), 'Status', {}, 2000).catch(() => undefined);
          if (o?.header.member_id === s.leader) return i;
        }
      } catch {
        // member down or busy: ask the next one
      }
    }
    await sleep(100);
  }
  throw new Error('no leader found');
}

/** The gRPC status a call failed with, or {} if it succeeded. */
export async function rejection(p: Promise<unknown>): Promise<{ code?: number; details?: string }> {
  try {
    await p;
  } catch (e) {
    const { code, details } = e as grpc.ServiceError;
    return { code, details };
  }
  return {};
}

export interface DifferentialPair {
  /** Debian's etcd, or undefined when it is not installed (requireTool said so). */
  etcdBin: string | undefined;
  real?: RunningCluster;
  ets?: RunningCluster;
}

/**
 * A fresh real etcd and a fresh etcd-ts cluster, started before the file's
 * tests (side by side) and stopped after them, for differential tests.
 */
export function differentialPair(realSize: number, etsSize: number): DifferentialPair {
  const pair: DifferentialPair = { etcdBin: requireTool('etcd') };
  beforeAll(async () => {
    if (!pair.etcdBin) return;
    [pair.real, pair.ets] = await Promise.all([startRealEtcd(pair.etcdBin, realSize), startEtsCluster(etsSize)]);
  });
  afterAll(async () => {
    await Promise.all([pair.real?.stop(), pair.ets?.stop()]);
  });
  return pair;
}
