// The end-of-run report: what was done to the cluster, what the clients saw, how
// long writes were unavailable after each leader kill, and the checker's verdict —
// as numbers (for assertions and logs) and as one self-contained HTML page.

import { describeOp, type Operation, type OpKind, type Outcome } from './history';
import type { CheckResult, Verdict } from './linearizability';
import { NO_LEADER_NOTE, type FaultKind, type InjectedFault } from './nemesis';
import { escapeXml, latencySvg } from './plot';

export interface RecoveryStats {
  leaderKills: number;
  /** Per kill: ms from the kill until the first write invoked after it completed ok. */
  samplesMs: number[];
  medianMs: number | null;
  maxMs: number | null;
  /** Kills after which no write succeeded before the run ended. */
  neverRecovered: number;
}

export interface RunReport {
  operations: {
    total: number;
    byOutcome: Record<Outcome, number>;
    byKind: Record<OpKind, Record<Outcome, number>>;
  };
  faults: { total: number; byKind: Partial<Record<FaultKind, number>> };
  recovery: RecoveryStats;
  verdict: Verdict;
  keys: Array<{ key: string; verdict: Verdict; ops: number; steps: number; detail?: string }>;
}

const zero = (): Record<Outcome, number> => ({ ok: 0, fail: 0, unknown: 0 });

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Only writes invoked after the kill count: one invoked before could have been
 * committed before the kill and merely answered after, which says nothing about
 * the new leader.
 */
export function leaderKillRecovery(ops: readonly Operation[], faults: readonly InjectedFault[]): RecoveryStats {
  // A "leader kill" that found no leader hit an arbitrary member mid-election; its
  // recovery time says nothing about failover, so it is left out (and counted).
  const kills = faults.filter((f) => f.kind === 'kill-leader' && f.note !== NO_LEADER_NOTE);
  const writes = ops.filter((o) => o.kind !== 'get' && o.outcome === 'ok');
  const samplesMs: number[] = [];
  let neverRecovered = 0;
  for (const k of kills) {
    let first = Infinity;
    for (const w of writes) if (w.start >= k.start && w.end < first) first = w.end;
    if (first === Infinity) neverRecovered++;
    else samplesMs.push(first - k.start);
  }
  return {
    leaderKills: kills.length,
    samplesMs,
    medianMs: median(samplesMs),
    maxMs: samplesMs.length > 0 ? Math.max(...samplesMs) : null,
    neverRecovered,
  };
}

export function buildReport(ops: readonly Operation[], faults: readonly InjectedFault[], check: CheckResult): RunReport {
  const byOutcome = zero();
  const byKind: Record<OpKind, Record<Outcome, number>> = { get: zero(), put: zero(), cas: zero() };
  for (const o of ops) {
    byOutcome[o.outcome]++;
    byKind[o.kind][o.outcome]++;
  }
  const faultsByKind: Partial<Record<FaultKind, number>> = {};
  for (const f of faults) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
  return {
    operations: { total: ops.length, byOutcome, byKind },
    faults: { total: faults.length, byKind: faultsByKind },
    recovery: leaderKillRecovery(ops, faults),
    verdict: check.verdict,
    keys: check.keys.map((k) => {
      const entry: RunReport['keys'][number] = { key: k.key, verdict: k.verdict, ops: k.ops, steps: k.steps };
      const detail = k.explanation?.message ?? k.reason;
      if (detail !== undefined) entry.detail = detail;
      return entry;
    }),
  };
}

const ms = (n: number | null) => (n === null ? '-' : `${n.toFixed(0)} ms`);

/** Plain-text summary for logs and test failure messages. */
export function formatReport(r: RunReport): string {
  const o = r.operations;
  const lines = [
    `verdict: ${r.verdict.toUpperCase()}`,
    `operations: ${o.total} (ok ${o.byOutcome.ok}, fail ${o.byOutcome.fail}, unknown ${o.byOutcome.unknown})`,
    ...(['get', 'put', 'cas'] as const).map((k) => `  ${k}: ok ${o.byKind[k].ok}, fail ${o.byKind[k].fail}, unknown ${o.byKind[k].unknown}`),
    `faults: ${r.faults.total} (${Object.entries(r.faults.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')})`,
    `leader kills: ${r.recovery.leaderKills}; first successful write after: median ${ms(r.recovery.medianMs)}, max ${ms(r.recovery.maxMs)}` +
      (r.recovery.neverRecovered > 0 ? `; never recovered: ${r.recovery.neverRecovered}` : ''),
  ];
  for (const k of r.keys) {
    if (k.verdict === 'ok') continue;
    lines.push(`key ${JSON.stringify(k.key)}: ${k.verdict} (${k.ops} ops, ${k.steps} steps)`);
    if (k.detail) lines.push(...k.detail.split('\n').map((l) => `  ${l}`));
  }
  return lines.join('\n');
}

/** One self-contained page: the summary, the plot, and the fault timeline. */
export function reportHtml(r: RunReport, ops: readonly Operation[], faults: readonly InjectedFault[], title = 'etcd-ts chaos run'): string {
  const faultRows = faults
    .map((f) => `<tr><td>${escapeXml(f.kind)}</td><td>${escapeXml(f.members.join(', '))}</td><td>${f.start.toFixed(0)}</td><td>${f.stop.toFixed(0)}</td><td>${escapeXml(f.note ?? '')}</td></tr>`)
    .join('\n');
  const unknown = ops.filter((o) => o.outcome === 'unknown').slice(0, 20);
  return [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>${escapeXml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em}pre{background:#f1f3f5;padding:1em}td,th{padding:2px 8px;text-align:left}</style></head><body>',
    `<h1>${escapeXml(title)}</h1>`,
    `<pre>${escapeXml(formatReport(r))}</pre>`,
    latencySvg(ops, faults, { title }),
    '<h2>Faults (ms since start)</h2>',
    `<table><tr><th>kind</th><th>members</th><th>start</th><th>stop</th><th>note</th></tr>\n${faultRows}</table>`,
    '<h2>First unknown-outcome operations</h2>',
    `<pre>${escapeXml(unknown.map((o) => `${describeOp(o)} ${o.error ?? ''}`).join('\n'))}</pre>`,
    '</body></html>',
  ].join('\n');
}
