// A real etcd-ts cluster for chaos runs: N member processes started from the
// compiled bin (as users run it), each dialing its peers through a ProxyMesh
// (wired with --peer-url-overrides, so member ids stay those of the real peer
// URLs), and a ClusterControl over them for the nemesis: SIGKILL + respawn from
// the same data dir, SIGSTOP/SIGCONT, proxy faults, leaderOf via Maintenance.Status.
// Every wait is bounded; stop() — and, as a last resort, process exit — kills
// every child, continuing stopped ones first so none is left frozen.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Etcd3 } from 'etcd3';
import { loadEtcdProto } from '../../src/api/proto';
import { memberArgs, type ClusterDef } from '../../src/cli/cluster-def';
import { MEMBER_NODE_FLAGS } from '../../src/cli/gc-tuning';
import { freePorts } from '../support/ports';
import type { ClusterControl } from './nemesis';
import { ProxyMesh } from './proxy';
import { makeClient } from './workload';

export interface HarnessOptions {
  members: number;
  /** Raft timings in ms; etcd's defaults (100 / 1000) unless given. */
  heartbeatMs?: number;
  electionMs?: number;
  /** More member flags, e.g. a small --snapshot-count to push snapshots to lagging members. */
  extraArgs?: string[];
  /** Where data dirs and member logs go; a fresh temp dir by default. */
  dir?: string;
  /** Progress and nemesis actions, one line each. */
  log?: (line: string) => void;
}

interface HashKVReply {
  header?: { revision?: string };
  hash: string | number;
  compact_revision: string;
}

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  endpoint: string;
  args: string[];
  logFile: string;
  proc: ChildProcess | null;
  paused: boolean;
  /** Raft member id as Status reports it (decimal string), learned at start. */
  id: string | null;
  /** A client for Status against this member alone, never retried. */
  admin: Etcd3;
  /** A raw Maintenance client: the etcd3 package's proto lacks HashKV. */
  maint: grpc.Client;
  /** Being removed from the cluster by the nemesis: its own exit is expected. */
  leaving: boolean;
}

/**
 * bin/etcd-ts.js, found by walking up: this file runs from test/chaos under vitest
 * and from dist/test/chaos under `npm run chaos`.
 */
function findBin(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const bin = path.join(dir, 'bin', 'etcd-ts.js');
    if (fs.existsSync(bin) && fs.existsSync(path.join(dir, 'package.json'))) return bin;
    dir = path.dirname(dir);
  }
  throw new Error(`bin/etcd-ts.js not found above ${__dirname}`);
}
const BIN = findBin();

/** Children of every harness in this process, so an abrupt exit can still kill them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGCONT');
        p.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function serviceClient(service: string, target: string): grpc.Client {
  const pkg = loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject;
  const Ctor = pkg[service] as grpc.ServiceClientConstructor;
  return new Ctor(target, grpc.credentials.createInsecure());
}

function maintenanceClient(target: string): grpc.Client {
  return serviceClient('Maintenance', target);
}

/** Cluster-service errors worth retrying: etcd's health interval, elections, timeouts. */
const TRANSIENT = /unhealthy cluster|no leader|timed out|leader changed|not enough started|stopped|Deadline|connect|No connection/i;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on the port, or throws after timeoutMs. */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** A member that exited without the nemesis killing it. */
export interface UnexpectedExit {
  member: string;
  at: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ChaosCluster implements ClusterControl {
  private stopped = false;
  /**
   * Exits the harness did not cause. A non-zero exit code is a crash (a server bug;
   * the run fails); a signal, or a clean exit after one, came from outside — on a
   * shared machine someone's `pkill` — and the member is started again, like any
   * crash, so the run goes on.
   */
  readonly unexpectedExits: UnexpectedExit[] = [];

  private constructor(
    readonly dir: string,
    private readonly ms: Member[],
    readonly mesh: ProxyMesh,
    private readonly log: (line: string) => void,
  ) {}

  static async start(opts: HarnessOptions): Promise<ChaosCluster> {
    installExitHook();
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-ts-chaos-'));
    fs.mkdirSync(dir, { recursive: true });
    // Member ports and proxy ports from one allocator: letting the proxies listen on
    // port 0 let the kernel hand one a member's just-released peer port (EADDRINUSE).
    const n = opts.members;
    const ports = await freePorts(n * 2 + n * (n - 1));
    const proxyPorts = new Map<string, number>();
    let next = n * 2;
    const def: ClusterDef = {
      token: `chaos-${path.basename(dir)}`,
      host: '127.0.0.1',
      dataRoot: dir,
      extraArgs: ['--heartbeat-interval', String(opts.heartbeatMs ?? 100), '--election-timeout', String(opts.electionMs ?? 1000), ...(opts.extraArgs ?? [])],
      members: Array.from({ length: opts.members }, (_, i) => ({ name: `m${i + 1}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! })),
    };
    const mesh = await ProxyMesh.create(
      def.members.map((m) => ({ name: m.name, peer: { host: '127.0.0.1', port: m.peerPort } })),
      {
        port: (from, to) => {
          const key = `${from}>${to}`;
          if (!proxyPorts.has(key)) proxyPorts.set(key, ports[next++]!);
          return proxyPorts.get(key)!;
        },
      },
    );
    const ms: Member[] = def.members.map((m) => {
      const endpoint = `http://127.0.0.1:${m.clientPort}`;
      return {
        name: m.name,
        clientPort: m.clientPort,
        peerPort: m.peerPort,
        endpoint,
        args: [...memberArgs(def, m), '--peer-url-overrides', mesh.peerUrlOverrides(m.name)],
        logFile: path.join(dir, `${m.name}.log`),
        proc: null,
        paused: false,
        id: null,
        admin: makeClient([endpoint], 1000),
        maint: maintenanceClient(`127.0.0.1:${m.clientPort}`),
        leaving: false,
      };
    });
    const cluster = new ChaosCluster(dir, ms, mesh, opts.log ?? (() => {}));
    try {
      for (const m of ms) cluster.spawn(m);
      await Promise.all(ms.map((m) => waitForPort(m.clientPort, 20_000)));
      await cluster.learnIds(30_000);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  members(): readonly string[] {
    return this.ms.map((m) => m.name);
  }

  get endpoints(): string[] {
    return this.ms.map((m) => m.endpoint);
  }

  private member(name: string): Member {
    const m = this.ms.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  private spawn(m: Member): void {
    if (this.stopped) throw new Error('cluster stopped');
    // The log file is appended across restarts, so one file tells a member's whole story.
    const fd = fs.openSync(m.logFile, 'a');
    try {
      fs.writeSync(fd, `\n=== ${new Date().toISOString()} start ${m.name}\n`);
      const proc = spawn(process.execPath, [...MEMBER_NODE_FLAGS, BIN, ...m.args], { cwd: this.dir, stdio: ['ignore', fd, fd], env: { PATH: process.env['PATH'] ?? '' } });
      live.add(proc);
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        if (m.proc !== proc || this.stopped) return; // killed by the nemesis or by stop()
        if (m.leaving) {
          m.proc = null; // removed from the cluster: members stop by themselves then
          return;
        }
        m.proc = null;
        this.unexpectedExits.push({ member: m.name, at: new Date().toISOString(), code, signal });
        this.log(`harness: ${m.name} exited unexpectedly (code ${code}, signal ${signal}); starting it again`);
        if (this.unexpectedExits.length > 50) return; // bounded: something is badly wrong, let the run fail
        setTimeout(() => {
          if (m.proc === null && !this.stopped) this.spawn(m);
        }, 200);
      });
      m.proc = proc;
      m.paused = false;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Every member's id from its own Status header, so leaderOf can name the leader. */
  private async learnIds(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.ms) {
      for (let attempt = 0; m.id === null; attempt++) {
        try {
          m.id = (await m.admin.maintenance.status()).header.member_id;
        } catch (err) {
          if (Date.now() > deadline || attempt > 1000) throw new Error(`${m.name}: no Status within ${timeoutMs} ms: ${(err as Error).message}`);
          await sleep(100);
        }
      }
    }
  }

  /**
   * For the nemesis: the leader, waiting up to 2 s through an election in progress
   * (often one a previous fault caused), so that "kill the leader" hits a leader
   * rather than falling back to the first member.
   */
  async leaderOf(): Promise<string | null> {
    return this.waitForLeader(2000);
  }

  /** Asks every running member once; the answer with the highest term wins (a deposed leader may still believe in itself). */
  async currentLeader(): Promise<string | null> {
    const answers = await Promise.all(
      this.ms
        .filter((m) => m.proc !== null && !m.paused)
        .map((m) =>
          m.admin.maintenance.status({ deadline: Date.now() + 500 }).then(
            (s) => ({ term: BigInt(s.raftTerm), leader: s.leader }),
            () => null,
          ),
        ),
    );
    let best: { term: bigint; leader: string } | null = null;
    for (const a of answers) if (a !== null && a.leader !== '0' && (best === null || a.term > best.term)) best = a;
    if (best === null) return null;
    const id = best.leader;
    return this.ms.find((m) => m.id === id)?.name ?? null;
  }

  /** leaderOf, retried until some member names a leader or the time is up. */
  async waitForLeader(timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
      const l = await this.currentLeader();
      if (l !== null) return l;
      await sleep(100);
    }
    return null;
  }

  async killMember(name: string): Promise<void> {
    const m = this.member(name);
    const p = m.proc;
    if (p === null) return;
    this.log(`nemesis: SIGKILL ${name}`);
    const exited = new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
    m.proc = null; // before the signal, so the exit handler knows it was us
    m.paused = false;
    p.kill('SIGKILL');
    await exited;
  }

  async restartMember(name: string): Promise<void> {
    const m = this.member(name);
    if (m.proc !== null) return waitForPort(m.clientPort, 20_000);
    this.log(`nemesis: restart ${name}`);
    this.spawn(m);
    await waitForPort(m.clientPort, 20_000);
  }

  async pause(name: string): Promise<void> {
    const m = this.member(name);
    if (m.proc === null || m.paused) return;
    this.log(`nemesis: SIGSTOP ${name}`);
    m.proc.kill('SIGSTOP');
    m.paused = true;
  }

  async resume(name: string): Promise<void> {
    const m = this.member(name);
    if (m.proc === null || !m.paused) return;
    this.log(`nemesis: SIGCONT ${name}`);
    m.proc.kill('SIGCONT');
    m.paused = false;
  }

  /**
   * A Cluster-service call through some running member other than `except`,
   * retried on transient refusals for up to a minute. `done` may accept an
   * error as success (a retry of a call whose first attempt took effect).
   */
  private async clusterCall<T>(except: string, method: string, req: object, done: (details: string) => boolean = () => false): Promise<T | undefined> {
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const via = this.ms.filter((x) => x.name !== except && x.proc !== null && !x.paused);
      const m = via[attempt % Math.max(1, via.length)];
      let err: grpc.ServiceError | undefined;
      if (m) {
        const c = serviceClient('Cluster', `127.0.0.1:${m.clientPort}`);
        try {
          return await new Promise<T>((resolve, reject) =>
            (c as unknown as Record<string, (r: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: T) => void) => void>)[method]!.call(
              c, req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e, v) => (e ? reject(e) : resolve(v)),
            ),
          );
        } catch (e) {
          err = e as grpc.ServiceError;
          if (done(err.details ?? '')) return undefined;
          if (!TRANSIENT.test(err.details ?? '') && err.code !== grpc.status.UNAVAILABLE && err.code !== grpc.status.DEADLINE_EXCEEDED) throw err;
        } finally {
          c.close();
        }
      }
      if (Date.now() > deadline) throw new Error(`${method} did not succeed within 60 s: ${err?.details ?? 'no member to ask'}`);
      await sleep(250);
    }
    throw new Error(`${method}: too many attempts`);
  }

  async removeMember(name: string): Promise<void> {
    const m = this.member(name);
    this.log(`nemesis: remove ${name} (member ${m.id})`);
    m.leaving = true;
    // A retry after an attempt that did remove it is told "member not found".
    await this.clusterCall(name, 'MemberRemove', { ID: m.id }, (d) => d.includes('member not found'));
    const p = m.proc;
    if (p !== null) {
      const exited = new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
      // It stops by itself once it learns of its removal; a member that cannot learn it (cut off) is killed.
      if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) this.log(`nemesis: ${name} exited by itself`);
      else {
        this.log(`nemesis: ${name} did not exit within 10 s; SIGKILL`);
        m.proc = null;
        p.kill('SIGKILL');
        await exited;
      }
    }
    m.proc = null;
    const dataDir = m.args[m.args.indexOf('--data-dir') + 1]!;
    fs.rmSync(path.resolve(this.dir, dataDir), { recursive: true, force: true });
  }

  async addBackMember(name: string): Promise<void> {
    const m = this.member(name);
    const peer = `http://127.0.0.1:${m.peerPort}`;
    this.log(`nemesis: add back ${name}`);
    // A retry after an attempt that did add it is told its URL is in use.
    await this.clusterCall(name, 'MemberAdd', { peerURLs: [peer] }, (d) => d.includes('Peer URLs already exists'));
    const state = m.args.indexOf('--initial-cluster-state');
    m.args[state + 1] = 'existing';
    m.leaving = false;
    m.id = null;
    this.spawn(m);
    await waitForPort(m.clientPort, 20_000);
    await this.learnIds(30_000);
  }

  /** Store revision of one member (from a Status header), or null if it does not answer. */
  async revisionOf(name: string, timeoutMs = 2000): Promise<bigint | null> {
    try {
      return BigInt((await this.member(name).admin.maintenance.status({ deadline: Date.now() + timeoutMs })).header.revision);
    } catch {
      return null;
    }
  }

  async hashKV(name: string, revision: bigint, timeoutMs = 5000): Promise<{ hash: string; compactRevision: string; revision: string }> {
    const c = this.member(name).maint as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: (e: Error | null, v: HashKVReply) => void) => void>;
    const r = await new Promise<HashKVReply>((resolve, reject) =>
      c['HashKV']!.call(c, { revision: revision.toString() }, { deadline: Date.now() + timeoutMs }, (e, v) => (e ? reject(e) : resolve(v))),
    );
    return { hash: String(r.hash), compactRevision: String(r.compact_revision), revision: String(r.header?.revision) };
  }

  /** The last lines of a member's log, for failure messages. */
  tail(name: string, chars = 3000): string {
    try {
      return fs.readFileSync(this.member(name).logFile, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const m of this.ms) {
      m.admin.close();
      m.maint.close();
    }
    await Promise.all(
      this.ms.map(async (m) => {
        const p = m.proc;
        m.proc = null;
        if (p === null) return;
        const exited = new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
        // A stopped process cannot act on SIGTERM; a chaos member needs no clean shutdown anyway.
        p.kill('SIGCONT');
        p.kill('SIGKILL');
        await Promise.race([exited, sleep(5000)]);
      }),
    );
    await this.mesh.stop();
  }
}
