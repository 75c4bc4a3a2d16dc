// One chaos run, end to end: start a cluster behind proxies, play a seeded fault
// schedule against it while clients record a history, then — with every fault
// healed — require a write to succeed, every member to reach the same revision and
// HashKV, read every key once more, check the history, and write the report.
// Both `npm run chaos` (cli.ts) and the short run inside `npm test` call runChaos.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { History, type Operation } from './history';
import { ChaosCluster, type HarnessOptions, type UnexpectedExit } from './harness';
import { checkHistory, type CheckResult } from './linearizability';
import { makeSchedule, NO_LEADER_NOTE, runSchedule, type FaultEvent, type InjectedFault, type ScheduleOptions } from './nemesis';
import { buildReport, formatReport, reportHtml, type RunReport } from './report';
import { finalReads, makeClient, runWorkload } from './workload';
import { committedHistory, WatchCheck, type WatchCheckResult } from './watch-check';

export interface ChaosOptions {
  durationMs: number;
  seed: number;
  members: number;
  /** Results (report.txt, report.html, member logs) go here. */
  outDir: string;
  clients?: number;
  keys?: number;
  keyRotationMs?: number;
  pauseMs?: number;
  heartbeatMs?: number;
  electionMs?: number;
  /** Negative control: serializable (possibly stale) reads; such a run is expected to fail. */
  serializableReads?: boolean;
  /** Extra member flags (see HarnessOptions.extraArgs). */
  extraArgs?: string[];
  schedule?: ScheduleOptions;
  progressEveryMs?: number;
  log?: (line: string) => void;
}

export interface Convergence {
  converged: boolean;
  revision: string | null;
  /** Per member: revision and hash at the common revision, or the error. */
  members: Record<string, string>;
}

export interface ChaosResult {
  report: RunReport;
  check: CheckResult;
  faults: InjectedFault[];
  ops: Operation[];
  convergence: Convergence;
  /** Acknowledged writes that a final read proves missing (the checker sees them too; this names them). */
  lostWrites: string[];
  /** Watchers on every member against the committed history of the workload's keys. */
  watch: WatchCheckResult;
  finalWriteOk: boolean;
  unexpectedExits: UnexpectedExit[];
  text: string;
  outDir: string;
  passed: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retries one put until it succeeds: after healing, the cluster must take writes again. */
async function finalWrite(endpoints: string[], timeoutMs: number): Promise<boolean> {
  const etcd = makeClient(endpoints, 2000);
  const deadline = Date.now() + timeoutMs;
  try {
    for (let attempt = 0; attempt < 200 && Date.now() < deadline; attempt++) {
      try {
        await etcd.put('chaos/final').value(String(attempt)).exec();
        return true;
      } catch {
        await sleep(250);
      }
    }
    return false;
  } finally {
    etcd.close();
  }
}

/** Waits (bounded) until every member reports the same revision, then compares HashKV at it. */
export async function checkConvergence(cluster: ChaosCluster, timeoutMs: number): Promise<Convergence> {
  const names = cluster.members();
  const deadline = Date.now() + timeoutMs;
  let revs: Array<bigint | null> = [];
  for (let attempt = 0; attempt < 500; attempt++) {
    revs = await Promise.all(names.map((n) => cluster.revisionOf(n)));
    if (revs.every((r) => r !== null && r === revs[0])) break;
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  const members: Record<string, string> = {};
  const same = revs.every((r) => r !== null && r === revs[0]);
  if (!same) {
    names.forEach((n, i) => (members[n] = `revision ${revs[i] ?? 'no answer'}`));
    return { converged: false, revision: null, members };
  }
  const rev = revs[0]!;
  const hashes = await Promise.all(
    names.map((n) =>
      cluster.hashKV(n, rev).then(
        (h) => `hash ${h.hash} compact ${h.compactRevision}`,
        (e: Error) => `HashKV error: ${e.message}`,
      ),
    ),
  );
  names.forEach((n, i) => (members[n] = hashes[i]!));
  const converged = hashes.every((h) => h === hashes[0] && !h.startsWith('HashKV error'));
  return { converged, revision: rev.toString(), members };
}

/**
 * Acknowledged writes a final read contradicts outright: the final value was
 * written by an ok op W, yet an ok write began after W had returned (so it must
 * follow W), or the key reads absent although a write was acknowledged (the
 * workload never deletes). Unknown writes prove nothing either way.
 */
export function findLostWrites(ops: readonly Operation[], finals: readonly Operation[]): string[] {
  const lost: string[] = [];
  for (const f of finals) {
    if (f.outcome !== 'ok') continue;
    const keyOps = ops.filter((o) => o.key === f.key && o.outcome === 'ok' && o.id !== f.id);
    const acked = keyOps.filter((o) => o.kind === 'put' || (o.kind === 'cas' && o.output?.succeeded === true));
    const value = f.output?.value ?? null;
    if (value === null) {
      for (const a of acked) lost.push(`${f.key}: ${JSON.stringify(a.input.value)} acknowledged, key absent at the end`);
      continue;
    }
    const writer = acked.find((a) => a.input.value === value);
    if (writer === undefined) continue;
    for (const a of acked) if (a.start > writer.end) lost.push(`${f.key}: ${JSON.stringify(a.input.value)} acknowledged after ${JSON.stringify(value)}, which is still the final value`);
  }
  return lost;
}

function currentFault(events: readonly FaultEvent[], elapsed: number): string {
  const active = events.filter((e) => e.type === 'start' && e.fault.start <= elapsed && elapsed < e.fault.stop);
  return active.length === 0 ? 'none' : active.map((e) => `${e.fault.kind} #${e.fault.id}`).join(', ');
}

/** The workload's keys all start with this (see runWorkload's keys below). */
const WATCH_PREFIX = 'r/';

/**
 * After healing: reads the committed history of the workload's keys from one
 * member and compares every member's watcher with it (bounded waits throughout).
 */
async function checkWatches(wc: WatchCheck, endpoints: string[], from: number, convergedAt: string | null, log: (l: string) => void): Promise<WatchCheckResult> {
  try {
    if (convergedAt === null) return { ok: false, problems: ['the cluster never converged, so there is no committed history to compare'], eventsChecked: 0 };
    // A last write under the prefix marks the end: every watcher must reach its revision.
    const client = makeClient(endpoints, 5000);
    let until: number;
    try {
      until = Number((await client.put(`${WATCH_PREFIX}~end`).value('end').exec()).header.revision);
    } finally {
      client.close();
    }
    const endpoint = endpoints[0]!;
    const committed = await committedHistory(endpoint, WATCH_PREFIX, from, until, 60_000);
    if (!(await wc.waitCaughtUp(until, 60_000))) log('chaos: some watchers had not caught up after 60 s; comparing what they received');
    return wc.compare(committed);
  } catch (e) {
    return { ok: false, problems: [`watch check failed: ${(e as Error).message}`], eventsChecked: 0 };
  } finally {
    await wc.stop();
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  fs.mkdirSync(opts.outDir, { recursive: true });
  const harness: HarnessOptions = {
    members: opts.members,
    extraArgs: opts.extraArgs ?? [],
    dir: path.join(opts.outDir, 'cluster'),
    log,
  };
  if (opts.heartbeatMs !== undefined) harness.heartbeatMs = opts.heartbeatMs;
  if (opts.electionMs !== undefined) harness.electionMs = opts.electionMs;
  log(`chaos: seed ${opts.seed}, ${opts.members} members, ${(opts.durationMs / 1000).toFixed(0)} s, flags [${(opts.extraArgs ?? []).join(' ')}]${opts.serializableReads ? ', SERIALIZABLE READS (negative control)' : ''}, results in ${opts.outDir}`);
  const cluster = await ChaosCluster.start(harness);
  try {
    const leader = await cluster.waitForLeader(30_000);
    if (leader === null || !(await finalWrite(cluster.endpoints, 30_000))) throw new Error('cluster never became writable before the run');
    log(`chaos: cluster up, leader ${leader}`);

    // A watcher on every member from the next revision on: each must end up with
    // exactly the committed sequence of revisions for every key, across the faults.
    const watchFrom = Number((await cluster.revisionOf(cluster.members()[0]!, 5000)) ?? 0n) + 1;
    const endpointsByMember = Object.fromEntries(cluster.members().map((n, i) => [n, cluster.endpoints[i]!]));
    const watchCheck = await WatchCheck.start(endpointsByMember, WATCH_PREFIX, watchFrom);

    const events = makeSchedule(opts.seed, opts.durationMs, cluster.members(), opts.schedule);
    const history = new History();
    const keys = Array.from({ length: opts.keys ?? 5 }, (_, i) => `r/${i}`);
    const progress = setInterval(() => {
      const c = history.counts;
      const t = history.now();
      log(`[${(t / 1000).toFixed(0).padStart(5)} s] ops ok ${c.ok}, fail ${c.fail}, unknown ${c.unknown}; fault: ${currentFault(events, t)}`);
    }, opts.progressEveryMs ?? 5000);
    let faults: InjectedFault[];
    try {
      const workload = runWorkload({
        endpoints: cluster.endpoints,
        clients: opts.clients ?? 2 * opts.members,
        keys,
        durationMs: opts.durationMs,
        opTimeoutMs: 1000,
        history,
        seed: opts.seed,
        keyRotationMs: opts.keyRotationMs ?? 30_000,
        pauseMs: opts.pauseMs ?? 10,
        serializableReads: opts.serializableReads ?? false,
      });
      faults = await runSchedule(events, cluster, { now: () => history.now(), sleep });
      await workload;
    } finally {
      clearInterval(progress);
    }
    log(`chaos: traffic done, ${faults.length} faults healed; checking the cluster`);

    const finalWriteOk = await finalWrite(cluster.endpoints, 30_000);
    const convergence = await checkConvergence(cluster, 30_000);
    const watch = await checkWatches(watchCheck, cluster.endpoints, watchFrom, convergence.revision, log);
    const usedKeys = [...new Set(history.operations().map((o) => o.key))].sort();
    const finals = await finalReads(cluster.endpoints, usedKeys, history);
    const ops = history.operations();
    const lostWrites = findLostWrites(ops, finals);
    const checkStarted = Date.now();
    const check = checkHistory(ops, { timeLimitMs: 60_000 });
    log(`chaos: checked ${ops.length} ops on ${usedKeys.length} keys in ${((Date.now() - checkStarted) / 1000).toFixed(1)} s`);

    const report = buildReport(ops, faults, check);
    const exits = cluster.unexpectedExits;
    const crashes = exits.filter((e) => e.signal === null && e.code !== 0);
    const passed =
      report.verdict === 'ok' && lostWrites.length === 0 && convergence.converged && finalWriteOk && finals.every((f) => f.outcome === 'ok') && crashes.length === 0 && watch.ok;
    const text = [
      `seed ${opts.seed}, ${opts.members} members, ${(opts.durationMs / 1000).toFixed(0)} s`,
      formatReport(report),
      `final write after healing: ${finalWriteOk ? 'ok' : 'FAILED'}; final reads: ${finals.filter((f) => f.outcome === 'ok').length}/${finals.length} ok`,
      `lost acknowledged writes: ${lostWrites.length}`,
      ...lostWrites.slice(0, 20).map((l) => `  ${l}`),
      `convergence: ${convergence.converged ? 'ok' : 'FAILED'} at revision ${convergence.revision ?? '-'}`,
      `watchers on every member: ${watch.ok ? 'ok' : 'FAILED'}, ${watch.eventsChecked} events checked against the committed history`,
      ...watch.problems.slice(0, 20).map((p) => `  ${p}`),
      ...Object.entries(convergence.members).map(([n, s]) => `  ${n}: ${s}`),
      `leader-kill recovery samples (ms): ${report.recovery.samplesMs.map((s) => s.toFixed(0)).join(', ') || '-'}` +
        ` (kill-leader faults that found no leader, left out: ${faults.filter((f) => f.kind === 'kill-leader' && f.note === NO_LEADER_NOTE).length})`,
      `member exits the harness did not cause: ${exits.length} (crashes: ${crashes.length})`,
      ...exits.map((e) => `  ${e.member} at ${e.at}: code ${e.code}, signal ${e.signal}`),
      `RESULT: ${passed ? 'PASS' : 'FAIL'}`,
    ].join('\n');
    fs.writeFileSync(path.join(opts.outDir, 'report.txt'), `${text}\n`);
    // First the evidence, then the page (which once crashed on a long run and took the rest with it).
    // Every operation, one JSON object a line, gzipped (a 30-minute run has ~10^5 ops): the evidence behind the verdict.
    fs.writeFileSync(path.join(opts.outDir, 'history.jsonl.gz'), zlib.gzipSync(ops.map((o) => JSON.stringify(o)).join('\n')));
    fs.writeFileSync(path.join(opts.outDir, 'faults.json'), JSON.stringify(faults, null, 1));
    fs.writeFileSync(path.join(opts.outDir, 'report.html'), reportHtml(report, ops, faults, `etcd-ts chaos run, seed ${opts.seed}`));
    log(text);
    log(`chaos: report in ${path.join(opts.outDir, 'report.html')}`);
    return { report, check, faults, ops, convergence, lostWrites, watch, finalWriteOk, unexpectedExits: exits, text, outDir: opts.outDir, passed };
  } finally {
    await cluster.stop();
  }
}
