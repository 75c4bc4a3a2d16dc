// The watch hub against a real MVCC store, with a fake stream whose
// backpressure the test controls: every event arrives once, in revision order,
// whole revisions at a time, whether the watcher stays synced, starts in the
// past, or falls behind a stream that stops taking writes.
import { afterEach, describe, expect, it } from 'vitest';
import { StoreHarness, b } from '../mvcc/helpers';
import { WatchHub } from '../../src/watch/hub';
import { WatchStream, type WatchReply, ErrDuplicateWatchId, ErrEmptyWatcherRange } from '../../src/watch/stream';
import type { WatchSpec } from '../../src/watch/watcher';
import type { MvccStore } from '../../src/mvcc';

const harnesses: StoreHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.store.close().then(() => h.db.close());
});

async function setup(): Promise<{ store: MvccStore; hub: WatchHub }> {
  const h = new StoreHarness();
  harnesses.push(h);
  const store = await h.open();
  const hub = new WatchHub(store, { progressIntervalMs: 0, pageEvents: 3 });
  hub.start();
  return { store, hub };
}

class FakeOut {
  replies: WatchReply[] = [];
  /** Accept this many more writes before reporting a full buffer. */
  room = Infinity;
  write(r: WatchReply): boolean {
    this.replies.push(r);
    this.room--;
    return this.room > 0;
  }
  events(id: number): Array<[string, string, number]> {
    return this.replies
      .filter((r) => r.watchId === id)
      .flatMap((r) => r.events.map((e) => [e.type, e.kv.key.toString(), e.kv.modRevision] as [string, string, number]));
  }
}

const spec = (over: Partial<WatchSpec> = {}): WatchSpec => ({
  key: b('k'),
  rangeEnd: b('l'),
  startRevision: 0,
  prevKv: false,
  noPut: false,
  noDelete: false,
  progressNotify: false,
  fragment: false,
  ...over,
});

/** Counts the store's history reads from now on. */
function countHistoryReads(store: MvccStore): () => number {
  let reads = 0;
  const eventsFrom = store.eventsFrom.bind(store);
  store.eventsFrom = (...args: Parameters<typeof store.eventsFrom>) => {
    reads++;
    return eventsFrom(...args);
  };
  return () => reads;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('watch hub', () => {
  it('delivers live events of one txn in one reply, filtered and without prev_kv unless asked', async () => {
    const { store, hub } = await setup();
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    s.create(spec(), 0);
    s.create(spec({ noPut: true, prevKv: true }), 0);
    store.put({ key: b('k1'), value: b('a') });
    store.put({ key: b('x'), value: b('ignored') });
    store.txn({ compare: [], success: [{ requestPut: { key: b('k1'), value: b('b') } }, { requestDeleteRange: { key: b('k1') } }], failure: [] });
    expect(out.replies[0]).toMatchObject({ watchId: 0, created: true });
    expect(out.replies[1]).toMatchObject({ watchId: 1, created: true });
    expect(out.events(0)).toEqual([['PUT', 'k1', 2], ['PUT', 'k1', 4], ['DELETE', 'k1', 4]]);
    expect(out.replies.filter((r) => r.watchId === 0 && r.events.length > 0).map((r) => r.events.length)).toEqual([1, 2]);
    expect(out.events(1)).toEqual([['DELETE', 'k1', 4]]);
    const del = out.replies.find((r) => r.watchId === 1 && r.events.length > 0)!;
    // etcd reads prev_kv at mod_revision - 1, i.e. before the whole txn: 'a', not
    // the 'b' the same txn wrote (the store's feed follows etcd since a3468ba).
    expect(del.events[0]!.prevKv?.value.toString()).toBe('a');
    expect(out.replies.find((r) => r.watchId === 0 && r.events.length > 0)!.events[0]!.prevKv).toBeUndefined();
  });

  it('catches a watcher up from history, then live, with no gap or duplicate', async () => {
    const { store, hub } = await setup();
    for (let i = 0; i < 10; i++) store.put({ key: b(`k${i}`), value: b(`${i}`) });
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    s.create(spec({ startRevision: 3 }), 0);
    store.put({ key: b('k99'), value: b('live') });
    await until(() => hub.size.synced === 1);
    store.put({ key: b('k100'), value: b('live2') });
    const revs = out.events(0).map((e) => e[2]);
    expect(revs).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it('watchers behind on one range catch up from one history read per page, sharing events', async () => {
    const { store, hub } = await setup();
    for (let i = 0; i < 12; i++) store.put({ key: b(`k${i}`), value: b(`${i}`) }); // revisions 2..13
    const reads = countHistoryReads(store);
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    const starts = [2, 3, 3, 7, 12];
    starts.forEach((startRevision) => s.create(spec({ startRevision }), 0));
    s.create(spec({ startRevision: 3, noDelete: true }), 0); // same history, its own filter
    await until(() => hub.size.synced === starts.length + 1);
    store.put({ key: b('k-live'), value: b('x') });
    starts.forEach((start, id) =>
      expect(out.events(id).map((e) => e[2])).toEqual(Array.from({ length: 15 - start }, (_, i) => start + i)),
    );
    expect(out.events(5).map((e) => e[2])).toEqual(Array.from({ length: 12 }, (_, i) => 3 + i));
    // Pages of 3 events from revision 2 to 13: 4 reads for the whole group, where a
    // read per watcher would take 4 + 4 + 4 + 3 + 1 + 4.
    expect(reads()).toBe(4);
    const first = (id: number) => out.replies.find((r) => r.watchId === id && r.events.length > 0)!.events;
    expect(first(1)).toBe(first(2)); // same start, same options: one array, encoded once
    expect(first(5)).toEqual(first(1));
  });

  it('a stream that stops taking writes leaves its watcher unsynced; it catches up after the drain', async () => {
    const { store, hub } = await setup();
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    s.create(spec(), 0);
    out.room = 1; // one event fits, then the buffer reports full
    for (let i = 0; i < 20; i++) store.put({ key: b(`k${i}`), value: b(`${i}`) });
    expect(hub.size).toEqual({ synced: 0, unsynced: 1 });
    const sentWhileFull = out.replies.length;
    expect(sentWhileFull).toBe(2);
    out.room = Infinity;
    s.drained();
    await until(() => hub.size.synced === 1);
    store.put({ key: b('k-last'), value: b('x') });
    const revs = out.events(0).map((e) => e[2]);
    expect(revs).toEqual(Array.from({ length: 21 }, (_, i) => i + 2));
  });

  it('a watcher behind a full stream catches up from memory; past the memory budget, from history', async () => {
    for (const [recentBytes, historyReads] of [[1 << 20, 0], [300, 6]] as const) {
      const h = new StoreHarness();
      harnesses.push(h);
      const store = await h.open();
      const hub = new WatchHub(store, { progressIntervalMs: 0, pageEvents: 3, recentBytes });
      hub.start();
      const reads = countHistoryReads(store);
      const out = new FakeOut();
      const s = new WatchStream(hub, out, 1 << 20);
      s.create(spec({ prevKv: true }), 0);
      out.room = 1;
      for (let i = 0; i < 20; i++) store.put({ key: b(`k${i % 4}`), value: b(`${i}`) });
      out.room = Infinity;
      s.drained();
      await until(() => hub.size.synced === 1);
      expect(out.events(0).map((e) => e[2])).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
      // prev_kv from memory is what history gives
      const prevs = out.replies.flatMap((r) => r.events.map((e) => e.prevKv?.value.toString()));
      expect(prevs).toEqual(Array.from({ length: 20 }, (_, i) => (i < 4 ? undefined : `${i - 4}`)));
      // 19 events behind (revisions 3-21), pages of 3. A 300-byte budget holds the
      // last 3 (19-21, 88 bytes each with prev_kv): 6 history pages for 3-20, then the rest from memory.
      expect(reads()).toBe(historyReads);
      hub.stop();
    }
  });

  it('a watcher behind the compacted revision is cancelled with compact_revision', async () => {
    const { store, hub } = await setup();
    for (let i = 0; i < 5; i++) store.put({ key: b('k'), value: b(`${i}`) });
    store.compact(4);
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    s.create(spec({ startRevision: 2 }), 0);
    await until(() => out.replies.length === 2);
    expect(out.replies[1]).toMatchObject({ watchId: 0, canceled: true, compactRevision: 4, events: [], revision: 0 });
    expect(out.replies[1]!.cancelReason).toBeUndefined();
    // Exactly the compacted revision is still allowed.
    s.create(spec({ startRevision: 4 }), 0);
    await until(() => out.events(1).length === 3);
    expect(out.events(1).map((e) => e[2])).toEqual([4, 5, 6]);
  });

  it('ids: auto from 0 skipping used ones, duplicates and empty ranges refused, unknown cancel silent', async () => {
    const { hub } = await setup();
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    s.create(spec(), 1);
    s.create(spec(), 0);
    s.create(spec(), 0);
    s.create(spec(), 1);
    s.create(spec({ key: b('z'), rangeEnd: b('a') }), 0);
    s.cancel(77);
    s.cancel(1);
    s.progress();
    expect(out.replies.map((r) => [r.watchId, !!r.created, !!r.canceled, r.cancelReason ?? ''])).toEqual([
      [1, true, false, ''],
      [0, true, false, ''],
      [2, true, false, ''],
      [-1, true, true, ErrDuplicateWatchId],
      [-1, true, true, ErrEmptyWatcherRange],
      [1, false, true, ''],
      [-1, false, false, ''],
    ]);
  });

  it('history of a from-key watcher covers every key from its start', async () => {
    const { store, hub } = await setup();
    store.put({ key: b('a'), value: b('1') });
    store.put({ key: b('b'), value: b('1') });
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    s.create(spec({ key: b('a'), rangeEnd: Buffer.alloc(0), startRevision: 1 }), 0);
    await until(() => out.events(0).length === 2);
    expect(out.events(0).map((e) => e[1])).toEqual(['a', 'b']);
  });

  it('periodic progress notifications go to idle synced watchers that asked', async () => {
    const h = new StoreHarness();
    harnesses.push(h);
    const store = await h.open();
    const hub = new WatchHub(store, { progressIntervalMs: 20 });
    hub.start();
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 1 << 20);
    s.create(spec({ progressNotify: true }), 0);
    s.create(spec(), 0);
    store.put({ key: b('k'), value: b('1') });
    await until(() => out.replies.filter((r) => r.watchId === 0 && r.events.length === 0 && !r.created).length >= 2);
    hub.stop();
    const progress = out.replies.filter((r) => r.events.length === 0 && !r.created);
    expect(progress.every((r) => r.watchId === 0 && r.revision === 2)).toBe(true);
  });

  it('fragments a large revision only for watchers that asked', async () => {
    const { store, hub } = await setup();
    const out = new FakeOut();
    const s = new WatchStream(hub, out, 300);
    s.create(spec({ fragment: true }), 0);
    s.create(spec(), 0);
    const big = b('v'.repeat(100));
    store.txn({ compare: [], success: [0, 1, 2, 3, 4].map((i) => ({ requestPut: { key: b(`k${i}`), value: big } })), failure: [] });
    const frag = out.replies.filter((r) => r.watchId === 0 && r.events.length > 0);
    expect(frag.length).toBeGreaterThan(1);
    expect(frag.map((r) => !!r.fragment)).toEqual([...frag.slice(1).map(() => true), false]);
    expect(frag.flatMap((r) => r.events).length).toBe(5);
    expect(out.replies.filter((r) => r.watchId === 1 && r.events.length > 0).length).toBe(1);
  });
});
