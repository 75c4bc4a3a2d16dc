import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Operation, Outcome } from './history';
import { checkHistory } from './linearizability';
import { NO_LEADER_NOTE, type FaultKind, type InjectedFault } from './nemesis';
import { latencySvg } from './plot';
import { buildReport, formatReport, median, reportHtml } from './report';
import { mulberry32 } from './rng';

/** A strict little XML well-formedness check: balanced tags, quoted attributes, escaped text. */
function parseXml(xml: string): { elements: Array<{ name: string; attrs: Record<string, string> }> } {
  const elements: Array<{ name: string; attrs: Record<string, string> }> = [];
  const stack: string[] = [];
  const token = /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\/([A-Za-z][\w:-]*)\s*>|<([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(xml)) !== null) {
    if (m[6] !== undefined) throw new Error(`malformed tag at ${m.index}: ${xml.slice(m.index, m.index + 60)}`);
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(m[5])) throw new Error(`unescaped & in text at ${m.index}`);
      continue;
    }
    if (m[1] !== undefined) {
      const open = stack.pop();
      if (open !== m[1]) throw new Error(`</${m[1]}> closes <${open}>`);
      continue;
    }
    if (m[2] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) {
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        attrs[a[1]!] = a[2]!;
      }
      elements.push({ name: m[2], attrs });
      if (m[4] !== '/') stack.push(m[2]);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return { elements };
}

let id = 0;
function op(kind: Operation['kind'], start: number, end: number, outcome: Outcome): Operation {
  const o: Operation = { id: id++, process: id % 4, key: 'k', kind, input: {}, start, end, outcome };
  if (kind === 'get' && outcome === 'ok') o.output = { value: null };
  if (kind !== 'get') o.input.value = `v${o.id}`;
  if (kind === 'cas') {
    o.input.expected = 'nope';
    if (outcome === 'ok') o.output = { succeeded: false };
  }
  return o;
}

function fault(kind: FaultKind, start: number, stop: number): InjectedFault {
  return { fault: { id: 0, kind, start, stop, target: { role: 'leader' } }, kind, start, stop, members: ['m1'] };
}

describe('report', () => {
  const ops: Operation[] = [
    op('get', 0, 5, 'ok'),
    op('put', 900, 1100, 'ok'), // invoked before the first kill: does not count as recovery
    op('put', 1010, 3000, 'unknown'),
    op('put', 1200, 2500, 'ok'), // recovery candidate: 1500 ms
    op('cas', 1300, 2300, 'ok'), // first write after kill 1 to complete: 1300 ms
    op('get', 1400, 1500, 'fail'),
    op('cas', 4000, 4010, 'fail'),
    op('put', 5100, 5600, 'ok'), // 600 ms after kill 2
    op('get', 9000, 9002, 'ok'),
  ];
  ops[8]!.output = { value: ops[7]!.input.value! }; // the last write, so the history is linearizable
  const faults = [fault('kill-leader', 1000, 2000), fault('kill-leader', 5000, 6000), fault('kill-leader', 9500, 9900), fault('partition', 7000, 8000)];

  it('counts operations, faults and leader-kill recovery', () => {
    const r = buildReport(ops, faults, checkHistory(ops));
    expect(r.operations.total).toBe(9);
    expect(r.operations.byOutcome).toEqual({ ok: 6, fail: 2, unknown: 1 });
    expect(r.operations.byKind.put).toEqual({ ok: 3, fail: 0, unknown: 1 });
    expect(r.operations.byKind.cas).toEqual({ ok: 1, fail: 1, unknown: 0 });
    expect(r.faults).toEqual({ total: 4, byKind: { 'kill-leader': 3, partition: 1 } });
    expect(r.recovery).toEqual({ leaderKills: 3, samplesMs: [1300, 600], medianMs: 950, maxMs: 1300, neverRecovered: 1 });
    expect(r.verdict).toBe('ok');
    const text = formatReport(r);
    expect(text).toContain('verdict: OK');
    expect(text).toContain('median 950 ms, max 1300 ms; never recovered: 1');
  });

  it('leaves a leader kill that found no leader out of the recovery figure', () => {
    const blind: InjectedFault = { ...fault('kill-leader', 1000, 2000), note: NO_LEADER_NOTE };
    const r = buildReport(ops, [blind, fault('kill-leader', 5000, 6000)], checkHistory(ops));
    expect(r.faults.byKind['kill-leader']).toBe(2);
    expect(r.recovery).toEqual({ leaderKills: 1, samplesMs: [600], medianMs: 600, maxMs: 600, neverRecovered: 0 });
  });

  it('plots a 30-minute history without overflowing the stack (Math.max over 300 000 spread arguments)', () => {
    const big: Operation[] = [];
    for (let i = 0; i < 300_000; i++) big.push(op(i % 3 === 0 ? 'get' : 'put', i * 6, i * 6 + 5 + (i % 7), i % 50 === 0 ? 'unknown' : 'ok'));
    const svg = latencySvg(big, [fault('kill-leader', 1000, 3000)], { title: 'long' });
    const points = parseXml(svg).elements.filter((e) => (e.attrs['class'] ?? '').startsWith('op ')).length;
    expect(points).toBeLessThanOrEqual(30_000);
    expect(points).toBeGreaterThanOrEqual(6000); // every unknown op is drawn
    expect(svg).toContain('of 300000 operations drawn');
  });

  it('computes medians of odd and even samples', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('carries the checker explanation for a violating key', () => {
    const bad = [op('put', 0, 1, 'ok'), { ...op('get', 2, 3, 'ok'), output: { value: 'ghost' } }];
    const r = buildReport(bad, [], checkHistory(bad));
    expect(r.verdict).toBe('violation');
    expect(formatReport(r)).toContain('get -> "ghost"');
  });

  it('draws a well-formed SVG with one marker per operation and one band per fault', () => {
    const svg = latencySvg(ops, faults, { title: 'a <test> & more' });
    const { elements } = parseXml(svg);
    const cls = (e: { attrs: Record<string, string> }) => (e.attrs['class'] ?? '').split(' ');
    const marks = elements.filter((e) => cls(e)[0] === 'op');
    expect(marks).toHaveLength(ops.length);
    expect(marks.filter((e) => cls(e).includes('unknown'))).toHaveLength(1);
    expect(marks.filter((e) => cls(e).includes('cas')).map((e) => e.name)).toEqual(['polygon', 'polygon']);
    expect(elements.filter((e) => cls(e)[0] === 'fault')).toHaveLength(faults.length);
    expect(elements[0]!.name).toBe('svg');
  });

  it('renders a self-contained HTML page around the plot', () => {
    const html = reportHtml(buildReport(ops, faults, checkHistory(ops)), ops, faults);
    expect(parseXml(html.replace('<!DOCTYPE html>', '').replace(/<meta charset="utf-8">/, '<meta charset="utf-8"/>')).elements.length).toBeGreaterThan(10);
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('writes an example plot for a person to look at', () => {
    // A plausible run: steady ~2-8 ms ops, slow and unknown ops during faults.
    const rng = mulberry32(9);
    const sample: Operation[] = [];
    const fs_: InjectedFault[] = [
      fault('kill-leader', 3000, 4500),
      fault('pause', 7000, 8500),
      fault('partition', 11000, 13000),
      fault('latency', 15000, 17000),
      fault('kill-all', 19000, 21000),
    ];
    for (let t = 0; t < 24000; t += 6 + rng() * 10) {
      const hit = fs_.find((f) => t >= f.start && t < f.stop);
      const kind = (['get', 'put', 'cas'] as const)[Math.floor(rng() * 3)]!;
      const lat = hit && rng() < 0.5 ? 200 + rng() * 1500 : 1 + rng() * 8 * (hit?.kind === 'latency' ? 20 : 1);
      const outcome: Outcome = hit && lat > 1000 ? 'unknown' : hit && rng() < 0.1 ? 'fail' : 'ok';
      sample.push(op(kind, t, t + lat, outcome));
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-plot-'));
    const file = path.join(dir, 'latency.svg');
    fs.writeFileSync(file, latencySvg(sample, fs_, { title: 'example run (synthetic)' }));
    fs.writeFileSync(path.join(dir, 'report.html'), reportHtml(buildReport(sample, fs_, checkHistory(sample)), sample, fs_));
    expect(parseXml(fs.readFileSync(file, 'utf8')).elements.length).toBeGreaterThan(sample.length);
    process.stdout.write(`example plot: ${file}\n`);
  });
});
