// A tiny SVG writer for the comparison chart: two panels (throughput, p99) of
// grouped bars, etcd-ts beside etcd per workload, leader-only target. No chart
// library, so the output is reviewable text and needs no dependency.

export interface ChartGroup {
  label: string;
  /** One value per series; undefined = no data (drawn as an empty slot). */
  values: (number | undefined)[];
}

export interface ChartPanel {
  title: string;
  unit: string;
  groups: ChartGroup[];
  /** Log axis: latencies span 1 ms (one client) to seconds (1000 clients). */
  log?: boolean;
}

const SERIES_COLORS = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5'];
const PANEL_W = 900;
const PANEL_H = 260;
const MARGIN = { left: 70, right: 20, top: 30, bottom: 60 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above `v`. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function shortNumber(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toPrecision(3)}`;
}

/** Axis: tick values and a mapping of a value to 0..1 of the plot height. */
export function axisFor(values: number[], log: boolean): { ticks: number[]; frac: (v: number) => number } {
  const positive = values.filter((v) => v > 0);
  if (log && positive.length) {
    const lo = Math.floor(Math.log10(Math.min(...positive)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
    const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    return { ticks, frac: (v) => (v > 0 ? Math.max(0, (Math.log10(v) - lo) / (hi - lo)) : 0) };
  }
  const max = niceMax(Math.max(0, ...values));
  const lead = Math.round(max / 10 ** Math.floor(Math.log10(max)));
  const steps = lead === 2 ? 4 : 5; // round tick labels: 0.4/0.2 steps for 2, 0.2 for 1 and 5
  return { ticks: Array.from({ length: steps + 1 }, (_, i) => (max * i) / steps), frac: (v) => v / max };
}

function panel(p: ChartPanel, series: string[], y0: number): string[] {
  const out: string[] = [];
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const top = y0 + MARGIN.top;
  const axis = axisFor(p.groups.flatMap((g) => g.values.filter((v): v is number => v !== undefined)), p.log ?? false);
  const scale = p.log ? ', log scale' : '';
  out.push(`<text x="${MARGIN.left}" y="${y0 + 18}" font-size="14" font-weight="bold">${escapeXml(`${p.title} (${p.unit}${scale})`)}</text>`);
  for (const t of axis.ticks) {
    const y = top + plotH - plotH * axis.frac(t);
    out.push(`<line x1="${MARGIN.left}" y1="${y.toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${y.toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end">${shortNumber(t)}</text>`);
  }
  const groupW = plotW / Math.max(1, p.groups.length);
  const barW = (groupW * 0.7) / Math.max(1, series.length);
  p.groups.forEach((g, gi) => {
    const gx = MARGIN.left + gi * groupW + groupW * 0.15;
    g.values.forEach((v, si) => {
      if (v === undefined) return;
      const h = plotH * axis.frac(v);
      const x = gx + si * barW;
      out.push(`<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${SERIES_COLORS[si % SERIES_COLORS.length]}"><title>${escapeXml(`${series[si]} ${g.label}: ${shortNumber(v)} ${p.unit}`)}</title></rect>`);
    });
    out.push(`<text x="${(gx + groupW * 0.35).toFixed(1)}" y="${top + plotH + 16}" font-size="11" text-anchor="middle">${escapeXml(g.label)}</text>`);
  });
  return out;
}

export function renderChart(title: string, series: string[], panels: ChartPanel[]): string {
  const height = 40 + panels.length * PANEL_H + 20;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL_W}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  series.forEach((s, i) => {
    const x = PANEL_W - MARGIN.right - 120 * (series.length - i);
    out.push(`<rect x="${x}" y="12" width="12" height="12" fill="${SERIES_COLORS[i % SERIES_COLORS.length]}"/>`);
    out.push(`<text x="${x + 16}" y="22" font-size="12">${escapeXml(s)}</text>`);
  });
  panels.forEach((p, i) => out.push(...panel(p, series, 40 + i * PANEL_H)));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
