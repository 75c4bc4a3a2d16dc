// Quorum arithmetic against a plain reference: the commit index is the
// (n/2+1)-th largest acknowledged index, for every voter count, including the
// sizes past the reused scratch array, and duplicates.
import { describe, expect, it } from 'vitest';
import { jointCommitted, majorityCommitted } from '../../src/raft/quorum';
import { mulberry32, randInt } from '../../src/raft/prng';

function reference(acks: number[]): number {
  if (acks.length === 0) return Infinity;
  const sorted = [...acks].sort((a, b) => b - a);
  return sorted[acks.length >> 1]!;
}

describe('quorum', () => {
  it('majorityCommitted is the index a majority has acknowledged', () => {
    const rand = mulberry32(7);
    for (let round = 0; round < 2000; round++) {
      const n = round % 21; // 0..20 voters
      const acks = Array.from({ length: n }, () => randInt(rand, round % 3 === 0 ? 4 : 1000));
      const voters = new Set(acks.map((_, i) => String(i + 1)));
      const got = majorityCommitted(voters, (id) => acks[Number(id) - 1]!);
      expect(got, `acks ${acks.join(',')}`).toBe(reference(acks));
    }
  });

  it('a joint configuration commits what both majorities acknowledged', () => {
    const acks = new Map<string, number>([['1', 9], ['2', 7], ['3', 3], ['4', 8], ['5', 2]]);
    const acked = (id: string) => acks.get(id) ?? 0;
    expect(majorityCommitted(new Set(['1', '2', '3']), acked)).toBe(7);
    expect(majorityCommitted(new Set(['3', '4', '5']), acked)).toBe(3);
    expect(jointCommitted(new Set(['1', '2', '3']), new Set(['3', '4', '5']), acked)).toBe(3);
    expect(jointCommitted(new Set(['1', '2', '3']), new Set<string>(), acked)).toBe(7);
    expect(jointCommitted(new Set<string>(), new Set<string>(), acked)).toBe(0);
  });
});
