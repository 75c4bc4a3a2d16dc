// The watch check's comparison: a member's received revisions must equal the
// committed ones key by key; gaps, duplicates, strays and reordering are reported.
import { describe, expect, it } from 'vitest';
import { WatchCheck } from './watch-check';

function checkWith(seen: Record<string, number[]>, committed: Record<string, number[]>) {
  const wc = new WatchCheck();
  wc.members.push({ member: 'm1', seen: new Map(Object.entries(seen)), lastRevision: 0, errors: 0 });
  return wc.compare(new Map(Object.entries(committed)));
}

describe('watch check comparison', () => {
  it('passes an exact match', () => {
    expect(checkWith({ 'r/0': [2, 5], 'r/1': [3] }, { 'r/0': [2, 5], 'r/1': [3] })).toMatchObject({ ok: true, eventsChecked: 3 });
  });

  it.each([
    [{ 'r/0': [2] }, /missing 5/],
    [{ 'r/0': [2, 5, 5] }, /duplicated 5/],
    [{ 'r/0': [5, 2] }, /out of order/],
    [{ 'r/0': [2, 5, 7] }, /never committed 7/],
  ])('reports %j against [2, 5]', (seen, re) => {
    const r = checkWith(seen, { 'r/0': [2, 5] });
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(re);
  });

  it('reports a key the member never heard of', () => {
    expect(checkWith({}, { 'r/9': [4] }).problems).toEqual(['m1 r/9: missing 4']);
  });
});
