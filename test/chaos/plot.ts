// A Jepsen-style latency plot as a self-contained SVG: every operation's latency
// (log scale) against the time it was invoked, coloured by outcome and shaped by
// kind, with fault intervals shaded behind. It shows at a glance how long the
// cluster was unavailable after each fault and whether timeouts cluster around them.

import type { Operation, OpKind, Outcome } from './history';
import type { FaultKind, InjectedFault } from './nemesis';

export const OUTCOME_COLOURS: Record<Outcome, string> = { ok: '#2f7ed8', fail: '#d6336c', unknown: '#f59f00' };
export const FAULT_COLOURS: Record<FaultKind, string> = {
  'kill-leader': '#e03131',
  'kill-follower': '#f783ac',
  pause: '#7048e8',
  'isolate-leader': '#1098ad',
  partition: '#37b24d',
  latency: '#e67700',
  'kill-all': '#495057',
  'replace-member': '#5c940d',
};

export interface PlotOptions {
  width?: number;
  height?: number;
  title?: string;
  /** Upper bound on drawn points (default 30 000); longer histories are thinned. */
  maxPoints?: number;
}

const M = { left: 70, right: 190, top: 40, bottom: 50 };

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const f1 = (n: number) => (Math.round(n * 10) / 10).toString();

/** The marker for one operation: circle = get, square = put, triangle = cas. */
function marker(kind: OpKind, x: number, y: number, colour: string, cls: string): string {
  const common = `class="${cls}" fill="${colour}" fill-opacity="0.75"`;
  switch (kind) {
    case 'get':
      return `<circle ${common} cx="${f1(x)}" cy="${f1(y)}" r="2.6"/>`;
    case 'put':
      return `<rect ${common} x="${f1(x - 2.4)}" y="${f1(y - 2.4)}" width="4.8" height="4.8"/>`;
    case 'cas':
      return `<polygon ${common} points="${f1(x)},${f1(y - 3.2)} ${f1(x - 3)},${f1(y + 2.4)} ${f1(x + 3)},${f1(y + 2.4)}"/>`;
  }
}

function niceStep(range: number, target: number): number {
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (mag * m >= raw) return mag * m;
  return mag * 10;
}

function latencyLabel(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

export function latencySvg(ops: readonly Operation[], faults: readonly InjectedFault[], opts: PlotOptions = {}): string {
  const width = opts.width ?? 1100;
  const height = opts.height ?? 520;
  const pw = width - M.left - M.right;
  const ph = height - M.top - M.bottom;

  // Loops, not Math.max(...xs): a 30-minute run has ~300 000 ops, past the argument-count limit.
  let tMax = 1;
  for (const o of ops) tMax = Math.max(tMax, o.start, Number.isFinite(o.end) ? o.end : 0);
  for (const f of faults) tMax = Math.max(tMax, Number.isFinite(f.stop) ? f.stop : f.start);
  // Latencies below 0.1 ms are clock noise; an unknown op that never ended is drawn at the top.
  const lat = (o: Operation) => (Number.isFinite(o.end) ? Math.max(0.1, o.end - o.start) : Infinity);
  let minLat = 1;
  let maxLat = 10;
  for (const o of ops) {
    const l = lat(o);
    if (!Number.isFinite(l)) continue;
    minLat = Math.min(minLat, l);
    maxLat = Math.max(maxLat, l);
  }
  const lo = 10 ** Math.floor(Math.log10(minLat));
  const hi = 10 ** Math.ceil(Math.log10(maxLat));
  const drawn = thin(ops, opts.maxPoints ?? 30_000);
  const x = (t: number) => M.left + (t / tMax) * pw;
  const y = (ms: number) => M.top + ph - ((Math.log10(Math.min(ms, hi)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${escapeXml(opts.title ?? 'Operation latency')}</text>`,
  );
  if (drawn.length < ops.length) {
    out.push(`<text class="thinned" x="${width - M.right}" y="22" text-anchor="end" fill="#495057">${drawn.length} of ${ops.length} operations drawn (every unknown; the rest evenly thinned)</text>`);
  }

  // Faults first, so the operations are drawn over them.
  out.push('<g class="faults">');
  for (const f of faults) {
    const x0 = x(f.start);
    const x1 = x(Number.isFinite(f.stop) ? f.stop : tMax);
    const who = f.members.length > 0 ? ` (${f.members.join(',')})` : '';
    out.push(
      `<rect class="fault ${f.kind}" x="${f1(x0)}" y="${M.top}" width="${f1(Math.max(1, x1 - x0))}" height="${ph}" fill="${FAULT_COLOURS[f.kind]}" fill-opacity="0.16"><title>${escapeXml(f.kind + who)}</title></rect>`,
      `<text x="${f1(x0 + 2)}" y="${M.top + 10}" font-size="9" fill="${FAULT_COLOURS[f.kind]}">${escapeXml(f.kind)}</text>`,
    );
  }
  out.push('</g>');

  // Axes and grid.
  out.push('<g class="axes" stroke="#adb5bd" stroke-width="0.5">');
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const yy = f1(y(d));
    out.push(`<line x1="${M.left}" y1="${yy}" x2="${M.left + pw}" y2="${yy}"/>`);
  }
  const stepS = niceStep(tMax / 1000, 10);
  for (let s = 0; s * 1000 <= tMax + 1e-9; s += stepS) {
    const xx = f1(x(s * 1000));
    out.push(`<line x1="${xx}" y1="${M.top + ph}" x2="${xx}" y2="${M.top + ph + 4}"/>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#495057"/>`, '</g>');
  out.push('<g class="labels" fill="#212529">');
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push(`<text x="${M.left - 6}" y="${f1(y(d) + 4)}" text-anchor="end">${latencyLabel(Number(d.toPrecision(1)))}</text>`);
  }
  for (let s = 0; s * 1000 <= tMax + 1e-9; s += stepS) {
    out.push(`<text x="${f1(x(s * 1000))}" y="${M.top + ph + 17}" text-anchor="middle">${Number(s.toPrecision(3))}</text>`);
  }
  out.push(
    `<text x="${M.left + pw / 2}" y="${height - 12}" text-anchor="middle">time since start (s)</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">latency</text>`,
    '</g>',
  );

  // Operations: ok first, so the rarer fail/unknown points are drawn on top of them.
  out.push('<g class="ops">');
  const order: Outcome[] = ['ok', 'fail', 'unknown'];
  for (const outcome of order) {
    for (const o of drawn) {
      if (o.outcome !== outcome) continue;
      out.push(marker(o.kind, x(o.start), y(lat(o)), OUTCOME_COLOURS[o.outcome], `op ${o.kind} ${o.outcome}`));
    }
  }
  out.push('</g>');

  out.push(legend(width - M.right + 14, M.top, faults));
  out.push('</svg>');
  return out.join('\n');
}

/**
 * At most about `max` points, so a long run's page stays a few MB and renders: every
 * unknown op (the interesting ones), and an even stride through the others.
 */
function thin(ops: readonly Operation[], max: number): readonly Operation[] {
  if (ops.length <= max) return ops;
  const unknown = ops.filter((o) => o.outcome === 'unknown');
  const rest = ops.filter((o) => o.outcome !== 'unknown');
  const stride = Math.ceil(rest.length / Math.max(1, max - unknown.length));
  return [...unknown, ...rest.filter((_, i) => i % stride === 0)];
}

function legend(lx: number, ly: number, faults: readonly InjectedFault[]): string {
  const out: string[] = ['<g class="legend" fill="#212529">'];
  let yy = ly + 6;
  const row = (mark: string, label: string) => {
    out.push(mark, `<text x="${lx + 14}" y="${yy + 4}">${escapeXml(label)}</text>`);
    yy += 16;
  };
  out.push(`<text x="${lx}" y="${yy}" font-weight="bold">outcome</text>`);
  yy += 14;
  for (const o of ['ok', 'fail', 'unknown'] as const) row(`<circle cx="${lx + 4}" cy="${yy}" r="4" fill="${OUTCOME_COLOURS[o]}"/>`, o);
  yy += 6;
  out.push(`<text x="${lx}" y="${yy}" font-weight="bold">operation</text>`);
  yy += 14;
  for (const k of ['get', 'put', 'cas'] as const) row(marker(k, lx + 4, yy, '#495057', 'legend-mark'), k);
  const kinds = [...new Set(faults.map((f) => f.kind))];
  if (kinds.length > 0) {
    yy += 6;
    out.push(`<text x="${lx}" y="${yy}" font-weight="bold">fault</text>`);
    yy += 14;
    for (const k of kinds) row(`<rect x="${lx}" y="${yy - 5}" width="9" height="10" fill="${FAULT_COLOURS[k]}" fill-opacity="0.35"/>`, k);
  }
  out.push('</g>');
  return out.join('\n');
}
