// The WAL and the store each have a LevelDB of their own, and in each the keys
// rewritten by every write sort after the append-only stream. If a rewritten
// key sorted below the stream, every memtable flush would span the whole
// stream and every level-0 compaction would rewrite all of level 1 (see
// src/server/storage-open.ts). These pin the order the layout relies on.
import { describe, expect, it } from 'vitest';
import { KEY_HARD_STATE, entryKey } from '../../src/wal/codec';
import { META_COMPACT, META_COMPACT_DONE, META_CONSISTENT_INDEX, META_REV, REV_UPPER, revKey } from '../../src/mvcc/codec';
import { AUX_LOWER, auxKey } from '../../src/mvcc/aux';

const MAX = Number.MAX_SAFE_INTEGER;

describe('key layout', () => {
  it('the WAL hard state sorts after every entry key', () => {
    for (const i of [1, 255, 2 ** 32, MAX]) expect(Buffer.compare(KEY_HARD_STATE, entryKey(i))).toBe(1);
  });

  it("the store's meta and aux keys sort after every revision key", () => {
    const top = revKey(MAX, MAX);
    expect(Buffer.compare(REV_UPPER, top)).toBe(1);
    for (const k of [META_CONSISTENT_INDEX, META_REV, META_COMPACT, META_COMPACT_DONE, AUX_LOWER, auxKey('lease/1')]) {
      expect(Buffer.compare(k, REV_UPPER)).toBeGreaterThanOrEqual(0);
      expect(Buffer.compare(k, top)).toBe(1);
    }
  });
});
