// Writes a finished comparison into bench/results/: the raw JSON, a Markdown page
// (machine, table, errors seen) and the SVG chart; each as a timestamped file and
// as latest.* so READMEs can link a stable name.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BenchReport } from './results';
import { renderChart, type ChartPanel } from './svg';
import { buildRows, buildWarmupRows, formatMarkdown } from './table';

const SERIES = ['etcd-ts', 'etcd'] as const;

export function chartFor(report: BenchReport): string {
  const panel = (title: string, unit: string, log: boolean, pick: (ops: number, p99: number) => number): ChartPanel => ({
    title, unit, log,
    groups: report.workloads.map((w) => ({
      label: w.name,
      values: SERIES.map((s) => {
        const r = report.runs[s]?.workloads[w.name]?.leader;
        return r ? pick(r.opsPerSec, r.p99Ms) : undefined;
      }),
    })),
  });
  return renderChart('etcd-ts vs etcd, 3 members, requests to the leader', [...SERIES], [
    panel('Throughput, higher is better', 'ops/s', false, (ops) => ops),
    panel('p99 latency, lower is better', 'ms', true, (_ops, p99) => p99),
  ]);
}

export function markdownFor(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `# Benchmark ${report.startedAt}`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memTotalMB} MB RAM, disk ${m.disk}, ${m.kernel}, Node ${m.node}, ${m.etcdVersion}.`,
    `Load average (1 min) at start ${m.loadAvgStart.toFixed(1)}, at end ${m.loadAvgEnd.toFixed(1)} (other work on the machine inflates latencies).`,
    `Options: ${JSON.stringify(report.options)}.`,
    '',
  ];
  for (const s of SERIES) {
    const run = report.runs[s];
    if (!run) lines.push(`- ${s}: not run`);
    else if (run.skipped) lines.push(`- ${s}: skipped: ${run.skipped}`);
    else if (run.error) lines.push(`- ${s}: stopped early: ${run.error}`);
  }
  lines.push('', 'Ratio = etcd-ts / etcd for throughput and etcd / etcd-ts for latency, CPU and memory: above 1 means etcd-ts is better.', '');
  lines.push(formatMarkdown(buildRows(report)));
  const errs = SERIES.flatMap((s) => Object.entries(report.runs[s]?.workloads ?? {}).flatMap(([w, byTarget]) =>
    Object.entries(byTarget).flatMap(([t, r]) => (r && r.errorSamples.length ? [`- ${s} ${w} ${t}: ${r.errors} errors, e.g. ${r.errorSamples.join(' / ')}`] : []))));
  if (errs.length) lines.push('Errors:', '', ...errs, '');
  const warm = buildWarmupRows(report);
  if (warm.length > 1) {
    lines.push(
      `Warm-up: before each phase above, the same workload ran unmeasured for ${report.options.warmupS ?? '?'} s against the same members, for both systems. Its figures, i.e. each system's first seconds of that load:`,
      '',
      formatMarkdown(warm),
    );
  }
  lines.push('Workloads:', '', ...report.workloads.map((w) => `- \`${w.name}\`: ${w.title}, ${w.total.toLocaleString('en-US')} requests per target`), '');
  return lines.join('\n');
}

/** Writes all three files; returns the paths written. */
export function writeReport(report: BenchReport, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const files: [string, string][] = [
    ['json', JSON.stringify(report, null, 2) + '\n'],
    ['md', markdownFor(report)],
    ['svg', chartFor(report)],
  ];
  const written: string[] = [];
  for (const [ext, text] of files) {
    for (const name of [`${stamp}.${ext}`, `latest.${ext}`]) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      written.push(p);
    }
  }
  return written;
}
