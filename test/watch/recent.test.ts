// The in-memory recent history against the store's own history reads: for
// random writes and random (start, range, limit), a page from memory holds
// exactly the events and next revision eventsFrom gives, prev_kv included.
import { afterEach, describe, expect, it } from 'vitest';
import { StoreHarness, b, byteValues } from '../mvcc/helpers';
import { RecentHistory } from '../../src/watch/recent';
import { Watcher, type WatchSpec } from '../../src/watch/watcher';
import type { MvccStore } from '../../src/mvcc';
import type { ChangeBatch } from '../../src/mvcc/types';
import { rng } from '../wire/pb-fixtures';

const harnesses: StoreHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.dispose();
});

async function store(): Promise<MvccStore> {
  const h = new StoreHarness();
  harnesses.push(h);
  return h.open();
}

function follow(s: MvccStore, recent: RecentHistory): void {
  s.onChange((batch: ChangeBatch) => recent.push(batch, batch.events.map((e) => e.kv.key.toString('latin1'))));
}

const spec = (key: Buffer, rangeEnd: Buffer | undefined): WatchSpec => ({
  key,
  rangeEnd,
  startRevision: 0,
  prevKv: true,
  noPut: false,
  noDelete: false,
  progressNotify: false,
  fragment: false,
});

describe('recent history', () => {
  it('pages exactly as the store history does (300 random pages over random writes)', async () => {
    const s = await store();
    const recent = new RecentHistory();
    follow(s, recent);
    const r = rng(7);
    const key = () => b(`k${Math.floor(r() * 12)}`);
    for (let i = 0; i < 200; i++) {
      const x = r();
      if (x < 0.6) s.put({ key: key(), value: b(`v${i}`) });
      else if (x < 0.8) s.deleteRange({ key: key() });
      else
        s.txn({
          compare: [],
          success: [
            { requestPut: { key: key(), value: b(`t${i}`) } },
            { requestDeleteRange: { key: key() } },
          ],
          failure: [],
        });
    }
    expect(recent.oldest).toBe(2);
    const ranges: Array<[Buffer, Buffer | undefined]> = [
      [b('k3'), undefined],
      [b('k1'), b('k5')],
      [b('k'), b('l')],
      [b('k7'), Buffer.alloc(0)], // every key from k7
    ];
    for (let i = 0; i < 300; i++) {
      const [k, end] = ranges[Math.floor(r() * ranges.length)]!;
      const from = 2 + Math.floor(r() * (s.rev + 1));
      const limit = 1 + Math.floor(r() * 30);
      const w = new Watcher(1, { writable: true, sendEvents() {}, sendCompacted() {}, sendProgress() {} }, spec(k, end));
      const mem = recent.page(from, (key) => w.matches(key), limit)!;
      const disk = await s.eventsFrom(from, k, w.historyRangeEnd, { limit, prevKv: true });
      expect(byteValues(mem)).toEqual(byteValues(disk));
    }
  });

  it('keeps the newest revisions within its budget, and starts over after a gap', async () => {
    const s = await store();
    const recent = new RecentHistory(1_600);
    follow(s, recent);
    for (let i = 0; i < 100; i++) s.put({ key: b(`k${i}`), value: Buffer.alloc(50) });
    // 93 bytes an event (3-byte key, 50-byte value, 40 overhead): 17 fit in 1,600
    expect(recent.oldest).toBe(101 - 16);
    expect(recent.page(recent.oldest - 1, () => true, 1000)).toBeUndefined();
    const page = recent.page(recent.oldest, () => true, 1000)!;
    expect(page.events.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: 17 }, (_, i) => 85 + i));
    expect(page.nextRev).toBe(102);
    // Already current: nothing, and the next revision is its own start.
    expect(recent.page(102, () => true, 1000)).toEqual({ events: [], nextRev: 102 });
    recent.push({ revision: 500, events: [] }, []);
    expect(recent.oldest).toBe(500);
  });
});
