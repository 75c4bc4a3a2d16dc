import { afterEach, describe, expect, it } from 'vitest';
import { Wal, WalError } from '../../src/wal';
import { entryKey } from '../../src/wal/codec';
import type { SnapshotMetadata } from '../../src/raft/types';
import { ents, openDb, removeDir, tempDir, type TestDb } from './helpers';

const META = { memberId: '8e9e05c52164694d', clusterId: 'cdf818194e3a8c32', version: '3.5.0' };
const confState = { voters: ['1', '2', '3'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
const snapMeta = (index: number, term: number): SnapshotMetadata => ({ index, term, confState });

let open: TestDb[] = [];
let dirs: string[] = [];
async function fresh(): Promise<TestDb> {
  const dir = tempDir();
  dirs.push(dir);
  const t = await openDb(dir);
  open.push(t);
  return t;
}
async function reopen(t: TestDb): Promise<TestDb> {
  await t.close();
  open = open.filter((x) => x !== t);
  const n = await openDb(t.dir);
  open.push(n);
  return n;
}
afterEach(async () => {
  for (const t of open) await t.close();
  for (const d of dirs) removeDir(d);
  open = [];
  dirs = [];
});

describe('wal', () => {
  it('round-trips hard state, entries and membership across a reopen', async () => {
    let t = await fresh();
    expect(await Wal.exists(t.wal)).toBe(false);
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ hardState: { term: 2, vote: '1', commit: 3 }, entries: ents(1, 5, 2), membership: Buffer.from('members') });
    t = await reopen(t);
    const w2 = await Wal.open(t.wal, { memberId: META.memberId, clusterId: META.clusterId });
    expect(w2.meta).toEqual(META);
    const s = await w2.load();
    expect(s.hardState).toEqual({ term: 2, vote: '1', commit: 3 });
    expect(s.snapshot).toBeUndefined();
    expect(s.entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()])).toEqual(
      [1, 2, 3, 4, 5].map((i) => [i, 2, String(i)]),
    );
    expect(Buffer.from(s.membership!).toString()).toBe('members');
  });

  it('appending at i discards everything >= i, including an older longer tail', async () => {
    let t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ entries: ents(1, 10, 1, 'old') });
    // New leader overwrites 4..6; old 7..10 must vanish, not survive behind it.
    await w.save({ entries: ents(4, 6, 2, 'new'), hardState: { term: 2, vote: '2', commit: 3 } });
    expect(w.bounds()).toEqual({ firstIndex: 1, lastIndex: 6, snapshotIndex: 0 });
    t = await reopen(t);
    const s = await (await Wal.open(t.wal)).load();
    expect(s.entries.map((e) => `${e.index}:${e.term}:${Buffer.from(e.data).toString()}`)).toEqual([
      '1:1:old1', '2:1:old2', '3:1:old3', '4:2:new4', '5:2:new5', '6:2:new6',
    ]);
  });

  it('rejects an append that would leave a gap, or that is not contiguous', async () => {
    const t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ entries: ents(1, 3, 1) });
    await expect(w.save({ entries: ents(5, 6, 1) })).rejects.toThrow(/gap/);
    await expect(w.save({ entries: [...ents(4, 4, 1), ...ents(6, 6, 1)] })).rejects.toThrow(/contiguous/);
    await w.save({ entries: ents(4, 4, 1) }); // still usable
  });

  it('merges saves issued while a write is in flight, in order', async () => {
    let t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    const ps: Promise<void>[] = [];
    for (let i = 1; i <= 200; i++) ps.push(w.save({ entries: ents(i, i, 1), hardState: { term: 1, vote: '', commit: Math.min(i - 1, 100) } }));
    // Truncation queued behind the appends must apply after them.
    ps.push(w.save({ entries: ents(150, 150, 2, 'x') }));
    await Promise.all(ps);
    expect(w.stats.calls).toBe(201);
    expect(w.stats.batches).toBeLessThan(201);
    t = await reopen(t);
    const s = await (await Wal.open(t.wal)).load();
    expect(s.entries.length).toBe(150);
    expect(s.entries[149]).toMatchObject({ index: 150, term: 2 });
    expect(s.hardState.commit).toBe(100);
  });

  it('compacts thousands of entries with one range delete while saves go on', async () => {
    const t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ entries: ents(1, 6000, 2), hardState: { term: 2, vote: '1', commit: 6000 } });
    await w.saveSnapshot(snapMeta(5000, 2));
    const compacted = w.compact(5000);
    const saved = w.save({ entries: ents(6001, 6010, 2) });
    await Promise.all([compacted, saved]);
    expect(w.bounds()).toEqual({ firstIndex: 5000, lastIndex: 6010, snapshotIndex: 5000 });
    let left = 0;
    for await (const [k] of t.wal.iterator({ gte: entryKey(0), lt: entryKey(5000) })) left += k.length > 0 ? 1 : 0;
    expect(left).toBe(0);
    const s = await w.load();
    expect(s.entries.map((e) => e.index)).toEqual(Array.from({ length: 1010 }, (_, i) => 5001 + i));
  });

  it('compacts below the snapshot index but keeps the entry at it', async () => {
    let t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ entries: ents(1, 20, 3), hardState: { term: 3, vote: '1', commit: 20 } });
    await expect(w.compact(10)).rejects.toThrow(/beyond the snapshot/);
    await w.saveSnapshot(snapMeta(15, 3));
    await w.compact(12);
    expect(w.bounds()).toEqual({ firstIndex: 12, lastIndex: 20, snapshotIndex: 15 });
    t = await reopen(t);
    const w2 = await Wal.open(t.wal);
    expect(w2.bounds().firstIndex).toBe(12);
    const s = await w2.load();
    expect(s.snapshot).toEqual(snapMeta(15, 3));
    expect(s.entries.map((e) => e.index)).toEqual([16, 17, 18, 19, 20]);
    // Raw check: entries below 12 are gone, 12 (term(first-1) for a later compaction) is kept.
    expect(await t.wal.get(entryKey(11))).toBeUndefined();
    expect(await t.wal.get(entryKey(12))).toBeDefined();
    await w2.save({ entries: ents(21, 22, 4) });
    await w2.saveSnapshot(snapMeta(22, 4));
    await w2.compact(22);
    const s2 = await w2.load();
    expect(s2.entries).toEqual([]);
    expect(s2.snapshot?.index).toBe(22);
    expect(w2.bounds()).toEqual({ firstIndex: 22, lastIndex: 22, snapshotIndex: 22 });
  });

  it('a received snapshot replaces the whole log; later entries follow it', async () => {
    let t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ entries: ents(1, 8, 1) });
    await w.save({ snapshot: { metadata: snapMeta(100, 5) }, hardState: { term: 5, vote: '', commit: 100 }, entries: ents(101, 102, 5) });
    t = await reopen(t);
    const s = await (await Wal.open(t.wal)).load();
    expect(s.snapshot).toEqual(snapMeta(100, 5));
    expect(s.entries.map((e) => e.index)).toEqual([101, 102]);
    expect(await t.wal.get(entryKey(8))).toBeUndefined();
  });

  it('refuses a directory of another member or cluster, or without metadata', async () => {
    let t = await fresh();
    await expect(Wal.open(t.wal)).rejects.toThrow(/not bootstrapped/);
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ entries: ents(1, 2, 1) });
    await expect(Wal.bootstrap(t.wal, META)).rejects.toThrow(WalError);
    t = await reopen(t);
    await expect(Wal.open(t.wal, { memberId: 'aaaa' })).rejects.toThrow(/belongs to member 8e9e05c52164694d/);
    await expect(Wal.open(t.wal, { clusterId: 'bbbb' })).rejects.toThrow(/belongs to cluster cdf818194e3a8c32/);
    await t.wal.batch([{ type: 'put', key: Buffer.from('m'), value: Buffer.from([0xc1, 0xff, 0x00]) }], {});
    await expect(Wal.open(t.wal)).rejects.toThrow(WalError);
    await t.wal.batch([{ type: 'del', key: Buffer.from('m') }], {});
    await expect(Wal.open(t.wal)).rejects.toThrow(/no metadata \(corrupt\)/);
  });

  it('detects a gap, a corrupt entry and a commit beyond the log on load', async () => {
    let t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    await w.save({ entries: ents(1, 6, 1), hardState: { term: 1, vote: '', commit: 6 } });
    t = await reopen(t);
    await t.wal.batch([{ type: 'del', key: entryKey(4) }], {});
    await expect((await Wal.open(t.wal)).load()).rejects.toThrow(/gap in the log between index 3 and 5/);
    await t.wal.batch([{ type: 'put', key: entryKey(4), value: Buffer.from('garbage') }], {});
    await expect((await Wal.open(t.wal)).load()).rejects.toThrow(/entry|decode/);
    await t.wal.batch([{ type: 'del', key: entryKey(4) }, { type: 'del', key: entryKey(5) }, { type: 'del', key: entryKey(6) }], {});
    await expect((await Wal.open(t.wal)).load()).rejects.toThrow(/commit index 6 is beyond/);
    await t.wal.batch([{ type: 'del', key: entryKey(1) }], {});
    await expect((await Wal.open(t.wal)).load()).rejects.toThrow(/log starts at 2/);
  });

  it('fails every later call once a write has failed', async () => {
    const t = await fresh();
    const w = await Wal.bootstrap(t.wal, META);
    await t.close();
    open = [];
    await expect(w.save({ entries: ents(1, 1, 1) })).rejects.toThrow(/write failed/);
    await expect(w.save({ entries: ents(1, 1, 1) })).rejects.toThrow(/write failed/);
  });
});
