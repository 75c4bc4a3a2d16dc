import { describe, expect, it } from 'vitest';
import { buildTimeline, parseTrace, type TraceMark } from '../../bench/timeline-analysis';

const LEADER = 200;
const F1 = 100;
const F2 = 300;

/** One write: the leader's marks and each follower's, at µs offsets from `start`. */
function write(start: number, followerWrite: number): string[][] {
  const at = (us: number, label: string): string => `${BigInt(start + us) * 1000n} ${label}`;
  return [
    [at(0, 'req'), at(40, 'ready e1 c0 m2'), at(900, 'recv AppResp 0'), at(1000, 'resp')],
    [at(100, 'recv App 1'), at(100 + followerWrite, 'written')],
    [at(120, 'recv App 1'), at(150, 'recv Heartbeat 0'), at(120 + followerWrite, 'written')],
  ];
}

function traces(writes: Array<[number, number]>): TraceMark[] {
  const byPid = new Map<number, string[]>([[LEADER, []], [F1, []], [F2, []]]);
  for (const [start, fw] of writes) {
    const [l, f1, f2] = write(start, fw);
    byPid.get(LEADER)!.push(...l!);
    byPid.get(F1)!.push(...f1!);
    byPid.get(F2)!.push(...f2!);
  }
  // A follower also serves a status call now and then: fewer 'req' marks than the leader.
  byPid.get(F1)!.push(`${BigInt(writes[0]![0] + 10) * 1000n} req`);
  return [...byPid].flatMap(([pid, lines]) => parseTrace(pid, lines.join('\n')));
}

describe('buildTimeline', () => {
  it('places every member mark relative to the leader request it belongs to', () => {
    const tl = buildTimeline(traces([[0, 400], [2000, 600], [4000, 500], [6000, 500]]));
    // The last write has no following request to close it.
    expect(tl.writes).toBe(3);
    const row = (member: string, event: string, nth = 0) => tl.rows.find((r) => r.member === member && r.event === event && r.nth === nth);
    expect(row('L', 'req')?.p50).toBe(0);
    expect(row('L', 'ready')?.p50).toBe(40);
    expect(row('L', 'resp')?.p50).toBe(1000);
    // Lowest pid after the leader is F1.
    expect(row('F1', 'recv')?.p50).toBe(100);
    expect(row('F2', 'recv')?.p50).toBe(120);
    // F1 got each append at 100 µs and its writes took 400, 600, 500 µs: done at 600 at the median.
    expect(row('F1', 'written')?.p50).toBe(600);
    expect(row('F1', 'written')?.p90).toBe(700);
    // The heartbeat is F2's second recv of each write.
    expect(row('F2', 'recv', 1)?.p50).toBe(150);
    expect(tl.span.p50).toBe(2000);
    // Rows come in time order.
    expect(tl.rows.map((r) => r.p50)).toEqual([...tl.rows.map((r) => r.p50)].sort((a, b) => a - b));
  });

  it('skips warm-up writes and drops marks seen in fewer than half of the writes', () => {
    const tl = buildTimeline(traces([[0, 5000], [9000, 400], [11000, 400], [13000, 400]]), 1);
    expect(tl.writes).toBe(2);
    expect(tl.rows.find((r) => r.member === 'F1' && r.event === 'written')?.p50).toBe(500);
    // F1's one 'req' fell into the skipped first write.
    expect(tl.rows.some((r) => r.member === 'F1' && r.event === 'req')).toBe(false);
  });

  it("names the client's marks C and keeps them in the write they follow", () => {
    const writes: Array<[number, number]> = [[0, 400], [2000, 400], [4000, 400]];
    const client = writes.flatMap(([start]) => [`${BigInt(start + 1500) * 1000n} reply`, `${BigInt(start + 1520) * 1000n} call`]);
    const tl = buildTimeline([...traces(writes), ...parseTrace(-2, client.join('\n'))]);
    const row = (member: string, event: string) => tl.rows.find((r) => r.member === member && r.event === event);
    expect(row('C', 'reply')?.p50).toBe(1500);
    expect(row('C', 'call')?.p50).toBe(1520);
    // Followers keep their names.
    expect(row('F1', 'recv')?.p50).toBe(100);
    expect(tl.rows.at(-1)?.event).toBe('call');
  });

  it('returns an empty timeline when no request was traced', () => {
    expect(buildTimeline(parseTrace(1, '5 ready e0 c0 m0\n9 written'))).toEqual({ writes: 0, span: { p50: 0, p90: 0, mean: 0 }, rows: [] });
  });
});
