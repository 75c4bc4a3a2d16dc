// Turns a BenchReport into one comparison table (rows of cells) and renders it as
// aligned text for the terminal or as Markdown. Ratios are oriented so that a value
// above 1 always means etcd-ts did better.

import type { LoadResult } from './loadgen';
import type { BenchReport, SystemRun } from './results';
import { TARGETS, type Target } from './workloads';

export const DASH = '–';

/** etcd-ts relative to etcd, "> 1 = etcd-ts better": a/b when higher is better, b/a otherwise. */
export function ratio(ets: number | undefined, etcd: number | undefined, higherIsBetter: boolean): string {
  if (ets === undefined || etcd === undefined || !Number.isFinite(ets) || !Number.isFinite(etcd)) return DASH;
  const num = higherIsBetter ? ets : etcd;
  const den = higherIsBetter ? etcd : ets;
  if (den === 0) return DASH;
  return (num / den).toFixed(2);
}

export function fmtCount(n: number | undefined): string {
  return n === undefined ? DASH : Math.round(n).toLocaleString('en-US');
}

/** Milliseconds with about three significant digits (0.412, 4.12, 41.2, 412). */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return DASH;
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

interface Metric {
  label: string;
  pick: (r: LoadResult) => number;
  fmt: (n: number | undefined) => string;
  higherIsBetter: boolean;
}

const METRICS: Metric[] = [
  { label: 'ops/s', pick: (r) => r.opsPerSec, fmt: fmtCount, higherIsBetter: true },
  { label: 'p50 ms', pick: (r) => r.p50Ms, fmt: fmtMs, higherIsBetter: false },
  { label: 'p99 ms', pick: (r) => r.p99Ms, fmt: fmtMs, higherIsBetter: false },
  { label: 'max ms', pick: (r) => r.maxMs, fmt: fmtMs, higherIsBetter: false },
  // CPU per request of all members together: steadier than throughput on a noisy box.
  { label: 'server CPU µs/op', pick: (r) => r.serverCpuUsPerOp ?? NaN, fmt: (n) => (n === undefined || Number.isNaN(n) ? DASH : fmtCount(n)), higherIsBetter: false },
];

export const HEADER = ['workload', 'metric', 'leader: etcd-ts', 'etcd', 'ratio', 'all members: etcd-ts', 'etcd', 'ratio'];

function cells(ets: number | undefined, etcd: number | undefined, m: Pick<Metric, 'fmt' | 'higherIsBetter'>): string[] {
  return [m.fmt(ets), m.fmt(etcd), ratio(ets, etcd, m.higherIsBetter)];
}

function result(run: SystemRun | undefined, workload: string, target: Target, phase: 'workloads' | 'warmup' = 'workloads'): LoadResult | undefined {
  return run?.[phase]?.[workload]?.[target];
}

/** The metrics a warm-up row shows: how a cold server did before its phase was measured. */
const WARMUP_METRICS = METRICS.filter((m) => m.label === 'ops/s' || m.label === 'p50 ms' || m.label === 'server CPU µs/op');

/** One workload's rows of `metrics`, each with both systems' figures for both targets. */
function metricRows(report: BenchReport, workload: string, metrics: Metric[], phase: 'workloads' | 'warmup'): string[][] {
  const ets = report.runs['etcd-ts'];
  const etcd = report.runs.etcd;
  const targetCells = (target: Target, m: Metric): string[] => {
    const a = result(ets, workload, target, phase);
    const b = result(etcd, workload, target, phase);
    return cells(a && m.pick(a), b && m.pick(b), m);
  };
  return metrics.map((m, i) => [i === 0 ? workload : '', m.label, ...targetCells('leader', m), ...targetCells('all', m)]);
}

/** The unmeasured warm-up runs (see --warmup), in the main table's layout; only the header when there were none. */
export function buildWarmupRows(report: BenchReport): string[][] {
  const rows: string[][] = [HEADER];
  for (const w of report.workloads) {
    const any = TARGETS.some((t) => result(report.runs['etcd-ts'], w.name, t, 'warmup') ?? result(report.runs.etcd, w.name, t, 'warmup'));
    if (any) rows.push(...metricRows(report, w.name, WARMUP_METRICS, 'warmup'));
  }
  return rows;
}

export function buildRows(report: BenchReport): string[][] {
  const ets = report.runs['etcd-ts'];
  const etcd = report.runs.etcd;
  const rows: string[][] = [HEADER];
  for (const w of report.workloads) {
    rows.push(...metricRows(report, w.name, METRICS, 'workloads'));
    // Failures and txn conflicts are shown only when they happened, so clean runs stay short.
    for (const [label, pick] of [['errors', (r: LoadResult) => r.errors], ['conflicts', (r: LoadResult) => r.conflicts]] as const) {
      const seen = TARGETS.flatMap((t) => [ets, etcd].map((s) => result(s, w.name, t)));
      const any = seen.some((r) => r !== undefined && pick(r) > 0);
      if (!any) continue;
      const side = (s: SystemRun | undefined, t: Target): string => { const r = result(s, w.name, t); return r ? fmtCount(pick(r)) : DASH; };
      rows.push(['', label, side(ets, 'leader'), side(etcd, 'leader'), DASH, side(ets, 'all'), side(etcd, 'all'), DASH]);
    }
  }
  if (ets?.watch || etcd?.watch) {
    const w = ets?.watch ?? etcd?.watch;
    const title = `watch (${w!.watchers} watchers, ${w!.writers} writers)`;
    rows.push([title, 'events/s', ...cells(ets?.watch?.eventsPerSec, etcd?.watch?.eventsPerSec, { fmt: fmtCount, higherIsBetter: true }), '', '', '']);
    rows.push(['', 'lag p50 ms', ...cells(ets?.watch?.lagP50Ms, etcd?.watch?.lagP50Ms, { fmt: fmtMs, higherIsBetter: false }), '', '', '']);
    rows.push(['', 'lag p99 ms', ...cells(ets?.watch?.lagP99Ms, etcd?.watch?.lagP99Ms, { fmt: fmtMs, higherIsBetter: false }), '', '', '']);
  }
  const memRows = (title: string, get: (s: SystemRun | undefined) => (number | undefined)[]): void => {
    const a = get(ets);
    const b = get(etcd);
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      rows.push([i === 0 ? title : '', `m${i + 1} MB`, ...cells(a[i], b[i], { fmt: fmtCount, higherIsBetter: false }), '', '', '']);
    }
  };
  const keys = ets?.memoryAtKeys?.keys ?? etcd?.memoryAtKeys?.keys;
  if (keys !== undefined) {
    memRows(`RSS at ${keys.toLocaleString('en-US')} keys of 256 B`, (s) => (s?.memoryAtKeys?.members ?? []).map((m) => m?.rssMB));
  }
  memRows('peak RSS (VmHWM) at end', (s) => (s?.peak ?? []).map((m) => m?.peakMB));
  return rows;
}

/** Aligned plain text: first two columns left-aligned, numbers right-aligned. */
export function formatText(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const [head, ...body] = rows;
  return [line(head!), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

export function formatMarkdown(rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const [head, ...body] = rows;
  const align = head!.map((_, c) => (c < 2 ? ':---' : '---:'));
  return [head!, align, ...body].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n') + '\n';
}
