// Turns the members' trace files (src/trace.ts) into the timeline of a
// single client's writes: every mark of every member, placed relative to the
// leader's 'req' mark of the write it belongs to. With one client and one
// write in flight, a write's marks are exactly those between its 'req' and
// the next one.

import { nearestRank } from './nearest-rank';

/** One mark: when (monotonic ns), which process, what. */
export interface TraceMark {
  t: bigint;
  /** The member's pid; negative for a load-generator thread. */
  pid: number;
  label: string;
}

/** Parses one trace-<pid>.txt ("<ns> <label>" per line). */
export function parseTrace(pid: number, text: string): TraceMark[] {
  const out: TraceMark[] = [];
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    out.push({ t: BigInt(line.slice(0, sp)), pid, label: line.slice(sp + 1) });
  }
  return out;
}

export interface TimelineRow {
  /** "L" for the leader, "F1", "F2", ... for the others (by pid), "C" for the client (a negative id). */
  member: string;
  /** The label up to its first space (details such as counts dropped). */
  event: string;
  /** 0 for the first such mark of that member in a write, 1 for the second, ... */
  nth: number;
  /** In how many of the writes it occurred. */
  count: number;
  /** Microseconds after the write's 'req' mark. */
  p50: number;
  p90: number;
}

export interface Timeline {
  writes: number;
  /** Each write's whole span, req to next req, in µs. */
  span: { p50: number; p90: number; mean: number };
  rows: TimelineRow[];
}

/**
 * Builds the timeline, skipping the first `skip` writes (warm-up). The leader
 * is the process with the most 'req' marks. Rows that occur in fewer than half
 * of the writes are left out: they are the occasional heartbeat or timer.
 */
export function buildTimeline(marks: TraceMark[], skip = 0): Timeline {
  const reqs = new Map<number, number>();
  for (const m of marks) if (m.label === 'req') reqs.set(m.pid, (reqs.get(m.pid) ?? 0) + 1);
  let leader = -1;
  let most = 0;
  for (const [pid, n] of reqs) if (n > most) [leader, most] = [pid, n];
  if (leader < 0) return { writes: 0, span: { p50: 0, p90: 0, mean: 0 }, rows: [] };
  const names = new Map<number, string>([[leader, 'L']]);
  let followers = 0;
  let clients = 0;
  for (const pid of [...new Set(marks.map((m) => m.pid))].sort((a, b) => a - b)) {
    if (names.has(pid)) continue;
    names.set(pid, pid < 0 ? (clients++ === 0 ? 'C' : `C${clients}`) : `F${++followers}`);
  }

  const sorted = [...marks].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  const writes: TraceMark[][] = [];
  for (const m of sorted) {
    if (m.pid === leader && m.label === 'req') writes.push([m]);
    else writes[writes.length - 1]?.push(m);
  }
  // The last write has no following 'req' to close it.
  const measured = writes.slice(skip, -1);

  const offsets = new Map<string, number[]>();
  const spans: number[] = [];
  for (const [i, w] of measured.entries()) {
    const t0 = w[0]!.t;
    spans.push(Number(writes[skip + i + 1]![0]!.t - t0) / 1000);
    const seen = new Map<string, number>();
    for (const m of w) {
      const event = m.label.split(' ')[0]!;
      const base = `${names.get(m.pid)!}\u0000${event}`;
      const nth = seen.get(base) ?? 0;
      seen.set(base, nth + 1);
      const key = `${base}\u0000${nth}`;
      let list = offsets.get(key);
      if (!list) offsets.set(key, (list = []));
      list.push(Number(m.t - t0) / 1000);
    }
  }

  const rows: TimelineRow[] = [];
  for (const [key, list] of offsets) {
    if (list.length * 2 < measured.length) continue;
    const [member, event, nth] = key.split('\u0000') as [string, string, string];
    list.sort((a, b) => a - b);
    rows.push({ member, event, nth: Number(nth), count: list.length, p50: nearestRank(list, 0.5), p90: nearestRank(list, 0.9) });
  }
  rows.sort((a, b) => a.p50 - b.p50);
  spans.sort((a, b) => a - b);
  const mean = spans.length === 0 ? 0 : spans.reduce((a, b) => a + b, 0) / spans.length;
  return { writes: measured.length, span: { p50: nearestRank(spans, 0.5), p90: nearestRank(spans, 0.9), mean }, rows };
}
