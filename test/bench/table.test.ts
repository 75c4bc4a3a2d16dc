import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../bench/loadgen';
import { markdownFor } from '../../bench/report';
import type { BenchReport } from '../../bench/results';
import { buildRows, buildWarmupRows } from '../../bench/table';

function load(opsPerSec: number, p50Ms: number, serverCpuUsPerOp: number): LoadResult {
  return {
    ops: opsPerSec, errors: 0, errorSamples: [], conflicts: 0, elapsedS: 1, opsPerSec, meanMs: p50Ms,
    p50Ms, p99Ms: p50Ms * 4, maxMs: p50Ms * 10, genCpuUsPerOp: 500, serverCpuUsPerOp,
  };
}

function report(withWarmup: boolean): BenchReport {
  return {
    startedAt: '2026-11-23T00:00:00.000Z',
    finishedAt: '2026-11-23T00:01:00.000Z',
    machine: { nproc: 2, cpuModel: 'test', memTotalMB: 1, disk: 'test', kernel: 'test', node: 'v20', etcdVersion: 'etcd 3.4', loadAvgStart: 0, loadAvgEnd: 0 },
    options: { quick: true, total: null, only: null, populateKeys: 0, warmupS: withWarmup ? 5 : 0 },
    workloads: [{ name: 'put-1', title: 'put', conns: 1, clients: 1, total: 100 }],
    runs: {
      'etcd-ts': {
        system: 'etcd-ts', peak: [],
        workloads: { 'put-1': { leader: load(800, 1.0, 1000) } },
        ...(withWarmup ? { warmup: { 'put-1': { leader: load(500, 1.6, 2000) } } } : {}),
      },
      etcd: {
        system: 'etcd', peak: [],
        workloads: { 'put-1': { leader: load(700, 1.2, 1200) } },
        ...(withWarmup ? { warmup: { 'put-1': { leader: load(650, 1.3, 1300) } } } : {}),
      },
    },
  };
}

describe('bench tables', () => {
  it('rates the measured phase, not the warm-up, in the main table', () => {
    const rows = buildRows(report(true));
    const ops = rows.find((r) => r[0] === 'put-1')!;
    expect(ops.slice(1, 5)).toEqual(['ops/s', '800', '700', '1.14']);
  });

  it('shows the warm-up figures of both systems, ratios oriented like the main table', () => {
    const rows = buildWarmupRows(report(true));
    expect(rows.slice(1).map((r) => r.slice(0, 5))).toEqual([
      ['put-1', 'ops/s', '500', '650', '0.77'],
      ['', 'p50 ms', '1.60', '1.30', '0.81'],
      ['', 'server CPU µs/op', '2,000', '1,300', '0.65'],
    ]);
    const md = markdownFor(report(true));
    expect(md).toContain('ran unmeasured for 5 s');
    expect(md).toContain('| put-1 | ops/s | 500 | 650 | 0.77 |');
  });

  it('leaves the warm-up section out of a run without one', () => {
    expect(buildWarmupRows(report(false))).toHaveLength(1);
    expect(markdownFor(report(false))).not.toContain('unmeasured');
  });
});
