import { afterEach, describe, expect, it } from 'vitest';
import { StoreHarness, b, keys } from './helpers';

describe('smoke', () => {
  let h: StoreHarness;
  afterEach(async () => h?.dispose());
  it('puts, ranges, reopens', async () => {
    h = new StoreHarness();
    const s = await h.open();
    expect(s.rev).toBe(1);
    expect(s.put({ key: b('a'), value: b('1') }, 1).revision).toBe(2);
    expect(s.put({ key: b('b'), value: b('2') }, 2).revision).toBe(3);
    expect(s.put({ key: b('a'), value: b('3') }, 3).revision).toBe(4);
    const r = s.range({ key: b('a'), rangeEnd: b('z') });
    expect(keys(r.kvs)).toEqual(['a', 'b']);
    expect(r.kvs[0]).toMatchObject({ createRevision: 2, modRevision: 4, version: 2 });
    await s.commit();
    const s2 = await h.reopen();
    expect(s2.rev).toBe(4);
    expect(s2.consistentIndex()).toBe(3);
    expect(s2.range({ key: b('a'), revision: 2 }).kvs[0]!.value.toString()).toBe('1');
  });
});
