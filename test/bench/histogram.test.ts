// Percentile math of the benchmark histogram and the comparison table's layout;
// no timing is measured here.

import { describe, expect, it } from 'vitest';
import { BUCKET_COUNT, Histogram, bucketOf, bucketUpperBound } from '../../bench/histogram';
import { mergeResults, split, type LoadResult } from '../../bench/loadgen';
import type { BenchReport } from '../../bench/results';
import { axisFor, niceMax, renderChart } from '../../bench/svg';
import { buildRows, fmtMs, formatMarkdown, formatText, ratio } from '../../bench/table';
import { keyFor, prefixEnd } from '../../bench/task';

describe('histogram buckets', () => {
  it('records small values exactly', () => {
    for (const v of [0, 1, 2, 50, 127]) expect(bucketUpperBound(bucketOf(v))).toBe(v);
  });

  it('keeps every value inside its bucket with <= 1/64 relative error', () => {
    for (let v = 128; v < 5_000_000; v = Math.floor(v * 1.37) + 1) {
      const i = bucketOf(v);
      expect(i).toBeLessThan(BUCKET_COUNT);
      expect(bucketUpperBound(i)).toBeGreaterThanOrEqual(v);
      expect(bucketUpperBound(i - 1)).toBeLessThan(v);
      expect((bucketUpperBound(i) - v) / v).toBeLessThanOrEqual(1 / 64);
    }
  });

  it('is monotonic and clamps huge values into the last bucket', () => {
    let prev = -1;
    for (let v = 0; v < 1e7; v += 997) {
      const i = bucketOf(v);
      expect(i).toBeGreaterThanOrEqual(prev);
      prev = i;
    }
    expect(bucketOf(1e30)).toBe(BUCKET_COUNT - 1);
  });
});

describe('percentiles', () => {
  it('matches exact percentiles of 1..100 µs', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.meanUs()).toBeCloseTo(50.5);
    expect(h.minUs).toBe(1);
  });

  it('reports a conservative bound within 1/64 for large values and never above max', () => {
    const h = new Histogram();
    for (let i = 0; i < 1000; i++) h.record(10_000 + i); // 10.000–10.999 ms
    const p50 = h.percentile(50);
    expect(p50).toBeGreaterThanOrEqual(10_499);
    expect(p50).toBeLessThanOrEqual(10_499 * (1 + 1 / 64));
    expect(h.percentile(100)).toBe(10_999);
  });

  it('merges worker histograms into the same answer as one histogram', () => {
    const all = new Histogram();
    const a = new Histogram();
    const b = new Histogram();
    for (let v = 1; v <= 10_000; v += 3) {
      all.record(v);
      (v % 2 ? a : b).record(v);
    }
    const merged = Histogram.fromData(a.toData());
    merged.merge(b.toData());
    for (const p of [1, 50, 90, 99, 99.9, 100]) expect(merged.percentile(p)).toBe(all.percentile(p));
    expect(merged.total).toBe(all.total);
    expect(merged.maxUs).toBe(all.maxUs);
  });

  it('is zero when empty', () => {
    expect(new Histogram().percentile(99)).toBe(0);
  });
});

describe('load splitting and merging', () => {
  it('splits counts near-evenly', () => {
    expect(split(10, 3)).toEqual([4, 3, 3]);
    expect(split(1, 2)).toEqual([1, 0]);
  });

  it('computes throughput over the union of worker windows', () => {
    const h = new Histogram();
    h.record(1000);
    const w = { hist: h.toData(), ops: 100, errors: 1, errorSamples: ['boom'], conflicts: 0 };
    const r = mergeResults([{ ...w, startMs: 1000, endMs: 2000 }, { ...w, startMs: 1500, endMs: 3000 }]);
    expect(r.ops).toBe(200);
    expect(r.opsPerSec).toBeCloseTo(100);
    expect(r.errors).toBe(2);
    expect(r.errorSamples).toEqual(['boom']);
    expect(r.p50Ms).toBeCloseTo(1, 1);
  });
});

describe('keys', () => {
  it('pads keys to the requested size and computes prefix ends', () => {
    expect(keyFor('k', 42, 8)).toBe('k0000042');
    expect(prefixEnd('r/').toString()).toBe('r0');
    expect(prefixEnd('ab').toString()).toBe('ac');
  });
});

function load(opsPerSec: number, p99Ms: number, errors = 0, serverCpuUsPerOp?: number): LoadResult {
  const r: LoadResult = { ops: 1, errors, errorSamples: errors ? ['x'] : [], conflicts: 0, elapsedS: 1, opsPerSec, meanMs: 1, p50Ms: 1, p99Ms, maxMs: 2, genCpuUsPerOp: 10 };
  return serverCpuUsPerOp === undefined ? r : { ...r, serverCpuUsPerOp };
}

function report(): BenchReport {
  return {
    startedAt: 't', finishedAt: 't',
    machine: { nproc: 2, cpuModel: 'cpu', memTotalMB: 1, disk: 'd', kernel: 'k', node: 'v20', etcdVersion: 'e', loadAvgStart: 0, loadAvgEnd: 0 },
    options: { quick: true, total: null, only: null, populateKeys: 10 },
    workloads: [{ name: 'put-1', title: 'put', conns: 1, clients: 1, total: 10 }],
    runs: {
      'etcd-ts': { system: 'etcd-ts', workloads: { 'put-1': { leader: load(200, 5, 3, 100) } }, peak: [{ rssMB: 50, peakMB: 60 }] },
      etcd: { system: 'etcd', workloads: { 'put-1': { leader: load(100, 10, 0, 50), all: load(150, 8) } }, peak: [{ rssMB: 20, peakMB: 30 }] },
    },
  };
}

describe('comparison table', () => {
  it('orients ratios so that above 1 means etcd-ts is better', () => {
    expect(ratio(200, 100, true)).toBe('2.00');
    expect(ratio(5, 10, false)).toBe('2.00');
    expect(ratio(undefined, 10, false)).toBe('–');
    expect(ratio(1, 0, true)).toBe('–');
  });

  it('formats milliseconds to about three significant digits', () => {
    expect(fmtMs(0.41234)).toBe('0.412');
    expect(fmtMs(4.1234)).toBe('4.12');
    expect(fmtMs(41.234)).toBe('41.2');
    expect(fmtMs(412.34)).toBe('412');
  });

  it('builds one row per metric, an errors row when errors happened, and memory rows', () => {
    const rows = buildRows(report());
    const find = (w: string, m: string): string[] | undefined => {
      let current = '';
      return rows.find((r) => { current = r[0] || current; return current === w && r[1] === m; });
    };
    expect(find('put-1', 'ops/s')).toEqual(['put-1', 'ops/s', '200', '100', '2.00', '–', '150', '–']);
    expect(find('put-1', 'p99 ms')?.slice(2, 5)).toEqual(['5.00', '10.0', '2.00']);
    expect(find('put-1', 'errors')?.slice(2, 4)).toEqual(['3', '0']);
    expect(find('put-1', 'conflicts')).toBeUndefined();
    expect(find('put-1', 'server CPU µs/op')?.slice(2)).toEqual(['100', '50', '0.50', '–', '–', '–']);
    expect(find('peak RSS (VmHWM) at end', 'm1 MB')?.slice(2, 5)).toEqual(['60', '30', '0.50']);
  });

  it('renders aligned text and a Markdown table with the same cells', () => {
    const rows = buildRows(report());
    const text = formatText(rows).split('\n');
    expect(text[0]).toMatch(/^workload\s+metric\s+leader: etcd-ts/);
    const dataLines = text.slice(2).filter((l) => l.includes('ops/s'));
    expect(dataLines[0]).toMatch(/put-1\s+ops\/s\s+200\s+100\s+2\.00\s+–\s+150\s+–$/);
    const md = formatMarkdown(rows).split('\n');
    expect(md[1]).toBe('| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |');
    expect(md[2]).toBe('| put-1 | ops/s | 200 | 100 | 2.00 | – | 150 | – |');
  });
});

describe('svg chart', () => {
  it('rounds axes to nice numbers and escapes labels', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(3.2)).toBe(5);
    expect(niceMax(1234)).toBe(2000);
    const svg = renderChart('a<b', ['x', 'y'], [{ title: 't', unit: 'u', groups: [{ label: 'g&h', values: [1, undefined] }] }]);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('g&amp;h');
    expect(svg.match(/<rect /g)?.length).toBe(1 + 2 + 1); // background, 2 legend boxes, 1 bar
  });

  it('spans whole decades on a log axis', () => {
    const axis = axisFor([1.5, 1200], true);
    expect(axis.ticks).toEqual([1, 10, 100, 1000, 10000]);
    expect(axis.frac(100)).toBeCloseTo(0.5);
    expect(axisFor([0, 3.2], false).ticks).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
