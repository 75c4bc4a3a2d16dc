// The comparison runner: starts a fresh 3-member etcd-ts cluster and a fresh
// 3-member cluster of Debian's real etcd, runs every workload against the
// leader and against all members of each, one system right after the other,
// and prints/writes one side-by-side table.
//
//   npm run bench -- [--quick] [--only put-100,get-lin] [--skip-etcd] [--skip-ets] [--total N] [--client raw]
//                    [--warmup SECONDS] [--etcd-from bench/results/<earlier run>.json]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster, type SystemName } from './cluster';
import { runLoad, type LoadResult } from './loadgen';
import { machineInfo } from './machine';
import { writeReport } from './report';
import type { BenchReport, SystemRun } from './results';
import { runWatchLoad } from './watch-load';
import { formatText, buildRows, fmtCount, fmtMs } from './table';
import { RANGE_PREFIX, type ClientKind } from './task';
import { POPULATE_KEYS, QUICK_DIVISOR, RANGE_KEYS, TARGETS, selectWorkloads, type Target, type Workload } from './workloads';

const REPO_ROOT = path.resolve(__dirname, '..', '..'); // dist/bench -> repo
const ETS_BIN = path.join(REPO_ROOT, 'bin', 'etcd-ts.js');
const ETCD_BIN = '/usr/bin/etcd';
/** Cap per measured phase (and for the pre-population), so a slow server still
 * finishes the run; the table then shows fewer requests, not a hang. */
const PHASE_CAP_MS = { full: 60_000, quick: 15_000, populate: 300_000 };
/**
 * Each phase first runs its workload unmeasured for this long, on the same
 * connections and clients, and is measured from then on without a pause; for
 * both systems alike. etcd-ts runs on V8, which keeps compiling a new load's
 * code paths for its first 10-20 s: on a fresh cluster, consecutive blocks of
 * 3,000 single-client puts cost 1,873, 1,217, 1,094 and 1,083 µs of cluster
 * CPU per put (TurboFan finished ~230, 110, 50 and 25 optimizations per member
 * per 5 s), and the 100,000-key populate before put-1 does not take it all:
 * 1,467, 1,250, 1,067, 1,080. Without a warm-up the first phases measured the
 * compiler. The generator is warmed too: each phase's worker threads are new
 * V8 isolates, whose grpc-js code starts cold. Real etcd (Go, compiled ahead
 * of time) has no such phase of its own. The warm-up's figures are kept in the
 * results (`warmup`) and shown in the Markdown page.
 */
const WARMUP_S = { full: 10, quick: 1 };
/** etcd-ts is new: give it 20 s to elect a leader; real etcd needs ~2 s. */
const HEALTHY_TIMEOUT_MS: Record<SystemName, number> = { 'etcd-ts': 20_000, etcd: 30_000 };

interface Flags {
  quick: boolean;
  only: string | undefined;
  skipEtcd: boolean;
  skipEts: boolean;
  total: number | null;
  keys: number;
  portBase: number;
  keepData: boolean;
  client: ClientKind;
  /** Take the etcd figures from an earlier results JSON instead of running etcd. */
  etcdFrom: string | undefined;
  /** Unmeasured run of each phase's workload before it is measured; 0 = none. */
  warmupS: number;
}

function parseFlags(): Flags {
  const { values: v } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'skip-etcd': { type: 'boolean', default: false },
      'skip-ets': { type: 'boolean', default: false },
      total: { type: 'string' },
      keys: { type: 'string' },
      'port-base': { type: 'string', default: '18100' }, // below Linux's ephemeral range (32768+), where an outgoing connection may hold a port
      'keep-data': { type: 'boolean', default: false },
      client: { type: 'string', default: 'grpc-js' },
      'etcd-from': { type: 'string' },
      warmup: { type: 'string' },
    },
  });
  const quick = v.quick ?? false;
  if (v.client !== 'grpc-js' && v.client !== 'raw') throw new Error('--client must be grpc-js or raw');
  const warmupS = v.warmup === undefined ? (quick ? WARMUP_S.quick : WARMUP_S.full) : Number(v.warmup);
  if (!Number.isFinite(warmupS) || warmupS < 0) throw new Error('--warmup must be a number of seconds >= 0');
  return {
    client: v.client,
    etcdFrom: v['etcd-from'],
    quick,
    only: v.only,
    skipEtcd: v['skip-etcd'] ?? false,
    skipEts: v['skip-ets'] ?? false,
    total: v.total ? Number(v.total) : null,
    keys: v.keys ? Number(v.keys) : quick ? POPULATE_KEYS / QUICK_DIVISOR : POPULATE_KEYS,
    portBase: Number(v['port-base']),
    keepData: v['keep-data'] ?? false,
    warmupS,
  };
}

const t0 = Date.now();
function progress(msg: string): void {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
}

function summary(r: LoadResult): string {
  const errs = r.errors ? `, ${r.errors} errors (${r.errorSamples[0] ?? ''})` : '';
  const conflicts = r.conflicts ? `, ${r.conflicts} conflicts` : '';
  const cpu = `CPU/op: server ${r.serverCpuUsPerOp === undefined ? '?' : fmtCount(r.serverCpuUsPerOp)} µs, generator ${fmtCount(r.genCpuUsPerOp)} µs`;
  return `${fmtCount(r.opsPerSec)} ops/s, p50 ${fmtMs(r.p50Ms)} ms, p99 ${fmtMs(r.p99Ms)} ms, max ${fmtMs(r.maxMs)} ms in ${r.elapsedS.toFixed(1)} s; ${cpu}${errs}${conflicts}`;
}

function totalFor(w: Workload, f: Flags): number {
  if (f.total !== null) return f.total;
  return f.quick ? Math.max(100, Math.round(w.total / QUICK_DIVISOR)) : w.total;
}

/** Why a system cannot be run at all, or null when it can be started. */
function unavailable(system: SystemName, f: Flags): string | null {
  if (system === 'etcd-ts' && f.skipEts) return 'skipped by --skip-ets';
  if (system === 'etcd' && f.skipEtcd) return 'skipped by --skip-etcd';
  if (system === 'etcd-ts' && !fs.existsSync(ETS_BIN)) return `${path.relative(REPO_ROOT, ETS_BIN)} does not exist yet (server not built)`;
  if (system === 'etcd' && !fs.existsSync(ETCD_BIN)) return `${ETCD_BIN} not installed (apt-get install etcd-server)`;
  return null;
}

/** The leader, waiting up to 10 s for one: a member may be busy (or electing) right
 * after a heavy phase. Throws if a member has exited. */
const leaderOf = async (cluster: Cluster): Promise<string> => cluster.waitHealthy(10_000);

/** What a system's run needs between phases: its cluster and the txn-cas revision cache. */
interface Live {
  cluster: Cluster;
  run: SystemRun;
  revCache: SharedArrayBuffer;
}

/**
 * Endpoints for a phase. "All members" puts the followers first: a workload with
 * fewer connections than members (put-1) then talks to a follower in both
 * systems, instead of to whichever member happened to be first in the list
 * (which made that row swing between runs with who won the first election).
 */
async function endpointsFor(cluster: Cluster, target: Target): Promise<string[]> {
  const leader = await leaderOf(cluster);
  return target === 'leader' ? [leader] : [...cluster.endpoints.filter((e) => e !== leader), leader];
}

/** Pre-populates the key space (and the range keys) and reads the memory row. */
async function prepare(l: Live, workloads: Workload[], f: Flags, withMemory: boolean): Promise<void> {
  const { cluster, run, revCache } = l;
  const system = run.system;
  if (withMemory || workloads.some((w) => w.needsKeys)) {
    const r = await runLoad({
      endpoints: [await leaderOf(cluster)], client: f.client, op: 'populate', conns: 10, clients: 100, total: 0,
      seqStart: 0, seqEnd: f.keys, revCache, durationMs: PHASE_CAP_MS.populate,
    });
    // The row names the keys actually written: fewer if the cap or errors cut it short.
    run.memoryAtKeys = { keys: r.ops, members: cluster.memory() };
    const mem = run.memoryAtKeys.members.map((m) => (m ? `${m.rssMB.toFixed(0)} MB` : '?')).join(' / ');
    progress(`${system}: populated ${fmtCount(r.ops)} of ${fmtCount(f.keys)} keys: ${summary(r)}; RSS ${mem}`);
  }
  if (workloads.some((w) => w.needsRangeKeys)) {
    const r = await runLoad({
      endpoints: [await leaderOf(cluster)], client: f.client, op: 'populate', prefix: RANGE_PREFIX, conns: 1, clients: 10, total: 0,
      seqStart: 0, seqEnd: RANGE_KEYS, durationMs: PHASE_CAP_MS.populate,
    });
    progress(`${system}: populated ${RANGE_KEYS} keys under ${RANGE_PREFIX}: ${summary(r)}`);
  }
}

/** One workload against one target. `idle` is the other system's cluster (frozen meanwhile), whose CPU during the phase is reported. */
async function measurePhase(l: Live, w: Workload, target: Target, f: Flags, idle?: Cluster): Promise<void> {
  const { cluster, run, revCache } = l;
  const phase = `${run.system} ${w.name} ${target === 'leader' ? 'leader' : 'all members'}`;
  try {
    const endpoints = await endpointsFor(cluster, target);
    const cpuAtWarmup = cluster.cpuSeconds();
    let cpuBefore = cpuAtWarmup;
    let idleBefore = 0;
    const r = await runLoad({
      endpoints, client: f.client, op: w.op, serializable: w.serializable ?? false, conns: w.conns, clients: w.clients,
      total: totalFor(w, f), keySpace: f.keys, revCache, durationMs: f.quick ? PHASE_CAP_MS.quick : PHASE_CAP_MS.full,
      warmupMs: f.warmupS * 1000,
      onMeasure: () => {
        cpuBefore = cluster.cpuSeconds();
        idleBefore = idle?.cpuSeconds() ?? 0;
      },
    });
    if (r.ops) r.serverCpuUsPerOp = ((cluster.cpuSeconds() - cpuBefore) * 1e6) / r.ops;
    if (r.warmup) {
      if (r.warmup.ops) r.warmup.serverCpuUsPerOp = ((cpuBefore - cpuAtWarmup) * 1e6) / r.warmup.ops;
      ((run.warmup ??= {})[w.name] ??= {})[target] = r.warmup;
      progress(`${phase} warm-up (not measured): ${summary(r.warmup)}`);
      delete r.warmup; // kept once, under run.warmup
    }
    (run.workloads[w.name] ??= {})[target] = r;
    const other = idle ? `; other cluster (frozen) ${(((idle.cpuSeconds() - idleBefore) / r.elapsedS) * 100).toFixed(1)} % CPU` : '';
    progress(`${phase}: ${summary(r)}${other}`);
  } catch (err) {
    progress(`${phase}: failed: ${(err as Error).message}`); // e.g. a connection never came up
  }
}

async function measureWatch(l: Live, f: Flags): Promise<void> {
  if (f.only && !f.only.split(',').includes('watch')) return;
  try {
    const endpoints = l.cluster.endpoints.map((e) => e.replace(/^https?:\/\//, ''));
    // The same warm-up as every other row: short unmeasured passes of the same
    // load for --warmup seconds (at least one pass when it is above 0).
    const warmUntil = Date.now() + f.warmupS * 1000;
    for (let pass = 0; f.warmupS > 0 && pass < 100 && (pass === 0 || Date.now() < warmUntil); pass++) {
      await runWatchLoad(endpoints, { watchers: 1000, writers: 100, putsPerWriter: 5 });
    }
    const r = await runWatchLoad(endpoints, { watchers: 1000, writers: 100, putsPerWriter: f.quick ? 5 : 20 });
    l.run.watch = r;
    progress(`${l.run.system} watch: ${fmtCount(r.eventsPerSec)} events/s to ${r.watchers} watchers (${r.delivered}/${r.expected}), lag p50 ${r.lagP50Ms.toFixed(1)} ms, p99 ${r.lagP99Ms.toFixed(1)} ms`);
  } catch (err) {
    progress(`${l.run.system} watch: failed: ${(err as Error).message}`);
  }
}

/** Starts a system's cluster and waits for a leader; a SystemRun saying why when it cannot. */
async function startSystem(system: SystemName, f: Flags): Promise<Live | SystemRun> {
  const run: SystemRun = { system, workloads: {}, peak: [] };
  const reason = unavailable(system, f);
  if (reason) {
    progress(`${system}: ${reason}; skipping`);
    return { ...run, skipped: reason };
  }
  const dataRoot = path.join(REPO_ROOT, 'tmp', 'bench');
  fs.mkdirSync(dataRoot, { recursive: true });
  const cluster = new Cluster({ system, size: 3, dataRoot, repoRoot: REPO_ROOT, portBase: f.portBase + (system === 'etcd' ? 50 : 0) });
  cluster.start();
  progress(`${system}: starting 3 members (${cluster.endpoints.join(' ')}), data in ${cluster.dataPath}`);
  try {
    const leader = await cluster.waitHealthy(HEALTHY_TIMEOUT_MS[system]);
    progress(`${system}: healthy, leader ${leader}`);
  } catch (err) {
    const msg = `cluster did not become healthy: ${(err as Error).message}`;
    progress(`${system}: ${msg}; skipping. Member logs:\n${cluster.logTails(5)}`);
    await cluster.stop(f.keepData);
    return { ...run, skipped: msg };
  }
  return { cluster, run, revCache: new SharedArrayBuffer(f.keys * Float64Array.BYTES_PER_ELEMENT) };
}

/** A member died or stopped answering: keep what was measured, say why the rest is missing. */
function aborted(l: Live, err: unknown): void {
  l.run.error = (err as Error).message;
  progress(`${l.run.system}: aborted: ${l.run.error}. Member logs:\n${l.cluster.logTails(10)}`);
}

async function finish(l: Live, f: Flags): Promise<SystemRun> {
  l.run.peak = l.cluster.memory();
  progress(`${l.run.system}: peak RSS ${l.run.peak.map((m) => (m ? `${m.peakMB.toFixed(0)} MB` : '?')).join(' / ')}`);
  await l.cluster.stop(f.keepData);
  progress(`${l.run.system}: stopped`);
  return l.run;
}

/**
 * The systems side by side: their clusters run for the whole comparison, and
 * each phase runs against one right after the other, the first alternating
 * from workload to workload. The machine's speed drifts by up to 1.7x within an
 * hour (CPU per op of both systems); measured minutes apart, the drift decided
 * ratios. The cluster not under load is frozen for each phase (its CPU during
 * the phase is reported, and stays at 0): left idle beside the other, it cost
 * etcd-ts 16-25 % of its put-1 throughput in a probe and etcd less
 * (bench/README.md, twentieth session). A system that is skipped or not
 * installed leaves the other to run alone.
 */
async function runInterleaved(systems: SystemName[], workloads: Workload[], f: Flags, withMemory: boolean): Promise<BenchReport['runs']> {
  const started: (Live | SystemRun)[] = [];
  for (const system of systems) started.push(await startSystem(system, f));
  const both = started.filter((x): x is Live => 'cluster' in x);
  const failed = new Set<Live>();
  // Each step runs with the other system's cluster frozen (Cluster.pause): the
  // system under load has the machine to itself, as when the two ran one after
  // the other, while the phases still alternate to cancel the box's drift.
  const step = async (l: Live, fn: () => Promise<void>): Promise<void> => {
    if (failed.has(l)) return;
    const others = both.filter((o) => o !== l);
    for (const o of others) o.cluster.pause();
    try {
      await fn();
    } catch (err) {
      failed.add(l);
      aborted(l, err);
    } finally {
      for (const o of others) o.cluster.resume();
    }
  };
  try {
    for (const l of both) await step(l, () => prepare(l, workloads, f, withMemory));
    for (const [i, w] of workloads.entries()) {
      const order = i % 2 === 0 ? both : [...both].reverse();
      for (const target of TARGETS) {
        for (const l of order) await step(l, () => measurePhase(l, w, target, f, both.find((o) => o !== l)?.cluster));
      }
    }
    for (const l of both) await step(l, () => measureWatch(l, f));
  } finally {
    for (const l of both) await finish(l, f);
  }
  const runs: BenchReport['runs'] = {};
  for (const x of started) runs['cluster' in x ? x.run.system : x.system] = 'cluster' in x ? x.run : x;
  return runs;
}

/** Real etcd's figures do not change while etcd-ts is developed: reusing a stored
 * pass (--etcd-from bench/results/<run>.json) halves the time of each comparison.
 * The run must have used the same options (client, totals, warm-up) to be comparable. */
function etcdFromFile(file: string, warmupS: number): SystemRun {
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchReport;
  const run = stored.runs.etcd;
  if (!run || run.skipped) throw new Error(`${file} has no etcd figures`);
  progress(`etcd: figures taken from ${file} (run ${stored.startedAt}, client ${stored.options.client ?? 'grpc-js'})`);
  // Runs before the warm-up existed have no warmupS: they measured from a standing start.
  const storedWarmup = stored.options.warmupS ?? 0;
  if (storedWarmup !== warmupS) progress(`etcd: warning: that run warmed up ${storedWarmup} s before each phase, this one ${warmupS} s; the ratios are not like for like`);
  return run;
}

async function main(): Promise<void> {
  const f = parseFlags();
  const workloads = selectWorkloads(f.only);
  const withMemory = !f.only || f.only.split(',').includes('memory');
  const startedAt = new Date().toISOString();
  const loadAvgStart = os.loadavg()[0] ?? 0;
  const runs = await runInterleaved(f.etcdFrom ? ['etcd-ts'] : ['etcd-ts', 'etcd'], workloads, f, withMemory);
  if (f.etcdFrom) runs.etcd = etcdFromFile(f.etcdFrom, f.warmupS);
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(REPO_ROOT, loadAvgStart),
    options: { quick: f.quick, total: f.total, only: f.only ?? null, populateKeys: f.keys, client: f.client, etcdFrom: f.etcdFrom ?? null, warmupS: f.warmupS },
    workloads: workloads.map((w) => ({ name: w.name, title: w.title, conns: w.conns, clients: w.clients, total: totalFor(w, f) })),
    runs,
  };
  process.stdout.write('\n' + formatText(buildRows(report)));
  for (const s of ['etcd-ts', 'etcd'] as const) {
    const note = runs[s]?.skipped ?? (runs[s]?.error ? `stopped early: ${runs[s]?.error}` : undefined);
    if (note) process.stdout.write(`${s}: ${note}\n`);
  }
  // A run where every system was skipped has nothing to keep; don't let it replace latest.*.
  if (Object.values(runs).every((r) => !r || r.skipped)) {
    progress('no system produced figures; bench/results/ left unchanged');
    process.exitCode = 1;
    return;
  }
  const written = writeReport(report, path.join(REPO_ROOT, 'bench', 'results'));
  progress(`wrote ${written.filter((p) => p.includes('latest')).map((p) => path.relative(REPO_ROOT, p)).join(', ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
