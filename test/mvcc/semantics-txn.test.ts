// etcd's documented KV behaviour, case by case: txns, compaction, the
// change feed, durability and snapshots. Rows marked [etcd 3.4.23] were
// checked against the real binary before being written down.

import { beforeEach, describe, expect, it } from 'vitest';
import { Errors } from '../../src/errors';
import { CompareResult as CR, CompareTarget as CT, isTxnReadOnly } from '../../src/mvcc';
import { StoreHarness, b, keys } from './helpers';
import { ctx, del, expectErr, get, next, put, useFreshStore } from './table';

useFreshStore();

describe('txn', () => {
  const txn = (compare: object[], success: object[] = [], failure: object[] = []) =>
    ctx.s.txn({ compare, success, failure } as never, next());

  beforeEach(() => {
    put('a', 'x', { lease: 3n }); // rev 2
    put('a', 'y', { lease: 3n }); // rev 3, version 2
    put('b', 'z'); // rev 4
  });

  it.each([
    ['value EQUAL', { target: CT.VALUE, result: CR.EQUAL, value: b('y') }, true],
    ['value GREATER', { target: CT.VALUE, result: CR.GREATER, value: b('x') }, true],
    ['value LESS', { target: CT.VALUE, result: CR.LESS, value: b('x') }, false],
    ['value NOT_EQUAL', { target: CT.VALUE, result: CR.NOT_EQUAL, value: b('y') }, false],
    ['version EQUAL 2', { target: CT.VERSION, result: CR.EQUAL, version: 2 }, true],
    ['version LESS 2', { target: CT.VERSION, result: CR.LESS, version: 2 }, false],
    ['create EQUAL 2', { target: CT.CREATE, result: CR.EQUAL, createRevision: 2 }, true],
    ['mod GREATER 2', { target: CT.MOD, result: CR.GREATER, modRevision: 2 }, true],
    ['mod NOT_EQUAL 3', { target: CT.MOD, result: CR.NOT_EQUAL, modRevision: 3 }, false],
    ['lease EQUAL 3', { target: CT.LEASE, result: CR.EQUAL, lease: 3n }, true],
    ['lease GREATER 2', { target: CT.LEASE, result: CR.GREATER, lease: 2n }, true],
  ])('compare %s on key a', (_n, c, want) => {
    expect(txn([{ key: b('a'), ...c }]).succeeded).toBe(want);
  });

  it.each([
    ['value "" on a missing key is false [etcd 3.4.23]', { target: CT.VALUE, result: CR.EQUAL, value: b('') }, false],
    ['version == 0 on a missing key is true [etcd 3.4.23]', { target: CT.VERSION, result: CR.EQUAL, version: 0 }, true],
    ['create_revision == 0 on a missing key is true', { target: CT.CREATE, result: CR.EQUAL, createRevision: 0 }, true],
    ['lease == 0 on a missing key is true', { target: CT.LEASE, result: CR.EQUAL }, true],
  ])('%s', (_n, c, want) => {
    expect(txn([{ key: b('missing'), ...c }]).succeeded).toBe(want);
  });

  it('a range compare holds only if every key in range satisfies it', () => {
    expect(txn([{ key: b('a'), rangeEnd: b('c'), target: CT.MOD, result: CR.GREATER, modRevision: 2 }]).succeeded).toBe(true);
    expect(txn([{ key: b('a'), rangeEnd: b('c'), target: CT.VERSION, result: CR.EQUAL, version: 2 }]).succeeded).toBe(false);
    expect(txn([{ key: b('a'), rangeEnd: b('\0'), target: CT.MOD, result: CR.LESS, modRevision: 5 }]).succeeded).toBe(true);
  });

  it('runs success or failure and answers each op', () => {
    const ok = txn(
      [{ key: b('a'), target: CT.VALUE, result: CR.EQUAL, value: b('y') }],
      [{ requestPut: { key: b('c'), value: b('1') } }, { requestRange: { key: b('c') } }],
      [{ requestPut: { key: b('d'), value: b('1') } }],
    );
    expect(ok.succeeded).toBe(true);
    expect(ok.revision).toBe(5);
    expect(ok.responses[0]!.responsePut!.revision).toBe(5);
    // reads inside a txn see its earlier writes [etcd 3.4.23]
    expect(ok.responses[1]!.responseRange!.kvs[0]!.modRevision).toBe(5);
    const bad = txn([{ key: b('a'), target: CT.VALUE, result: CR.EQUAL, value: b('nope') }], [], [{ requestDeleteRange: { key: b('a') } }]);
    expect(bad.succeeded).toBe(false);
    expect(bad.responses[0]!.responseDeleteRange!.deleted).toBe(1);
  });

  it('nested txn compares see the state before the outer txn; nested header revision is 0 [etcd 3.4.23]', () => {
    const r = txn(
      [],
      [
        { requestPut: { key: b('nk'), value: b('1') } },
        {
          requestTxn: {
            compare: [{ key: b('nk'), target: CT.VERSION, result: CR.EQUAL, version: 0 }],
            success: [{ requestPut: { key: b('nk2'), value: b('s') } }],
            failure: [{ requestPut: { key: b('nk2'), value: b('f') } }],
          },
        },
      ],
    );
    expect(r.responses[1]!.responseTxn!.succeeded).toBe(true);
    expect(r.responses[1]!.responseTxn!.revision).toBe(0);
    expect(get('nk2').kvs[0]!.value.toString()).toBe('s');
  });

  it('delete response inside a txn before any write carries the old revision [etcd 3.4.23]', () => {
    const r = txn([], [{ requestDeleteRange: { key: b('zz') } }, { requestPut: { key: b('q'), value: b('1') } }]);
    expect(r.responses[0]!.responseDeleteRange!.revision).toBe(4);
    expect(r.responses[1]!.responsePut!.revision).toBe(5);
  });

  it('a txn failing at apply time changes nothing, not even the revision', () => {
    ctx.s.leaseExists = (id) => id === 3n;
    const before = get('\0', '\0');
    expectErr(
      () => txn([], [{ requestPut: { key: b('c'), value: b('1') } }, { requestPut: { key: b('d'), value: b('1'), lease: 99n } }]),
      Errors.LeaseNotFound,
    );
    expectErr(() => txn([], [{ requestDeleteRange: { key: b('a') } }, { requestPut: { key: b('m'), ignoreValue: true } }]), Errors.KeyNotFound);
    expectErr(() => txn([], [{ requestPut: { key: b('c'), value: b('1') } }, { requestRange: { key: b('a'), revision: 99 } }]), Errors.FutureRev);
    expect(ctx.s.rev).toBe(4);
    expect(get('\0', '\0')).toEqual(before);
  });

  it('readTxn serves a read-only txn without touching revision or consistent index', () => {
    const req = {
      compare: [{ key: b('a'), target: CT.VERSION, result: CR.EQUAL, version: 2 }],
      success: [{ requestRange: { key: b('a'), rangeEnd: b('c') } }],
      failure: [],
    };
    expect(isTxnReadOnly(req)).toBe(true);
    expect(isTxnReadOnly({ ...req, failure: [{ requestTxn: { compare: [], success: [], failure: [{ requestDeleteRange: { key: b('a') } }] } }] })).toBe(false);
    const ci = ctx.s.consistentIndex();
    const r = ctx.s.readTxn(req);
    expect(r.succeeded).toBe(true);
    expect(r.revision).toBe(4);
    expect(keys(r.responses[0]!.responseRange!.kvs)).toEqual(['a', 'b']);
    expect(ctx.s.consistentIndex()).toBe(ci);
    expect(ctx.s.txn(req, next())).toEqual(r);
  });

  it('ignore_value on a key deleted earlier in the same txn refuses the whole txn (etcd 3.4 panics here)', () => {
    // validateTxn accepts this: a literal "\0" range_end escapes the duplicate check.
    expectErr(
      () => txn([], [{ requestDeleteRange: { key: b('a'), rangeEnd: b('\0') } }, { requestPut: { key: b('b'), ignoreValue: true } }]),
      Errors.KeyNotFound,
    );
    expect(ctx.s.rev).toBe(4);
    expect(get('b').count).toBe(1);
  });

  it('txn range below the compacted revision (or negative after a compaction) is refused [etcd 3.4.23]', () => {
    expect(txn([], [{ requestRange: { key: b('a'), revision: -1 } }]).responses[0]!.responseRange!.count).toBe(1);
    ctx.s.compact(3, next());
    expectErr(() => txn([], [{ requestRange: { key: b('a'), revision: 2 } }]), Errors.Compacted);
    expectErr(() => txn([], [{ requestRange: { key: b('a'), revision: -1 } }]), Errors.Compacted);
    expect(txn([], [{ requestRange: { key: b('a'), revision: 3 } }]).responses[0]!.responseRange!.count).toBe(1);
  });
});

describe('compaction', () => {
  beforeEach(() => {
    put('a', '1'); // 2
    put('a', '2'); // 3
    put('b', '1'); // 4
    del('b'); // 5
    put('a', '3'); // 6
  });

  it('refuses compacted and future revisions [etcd 3.4.23]', () => {
    expectErr(() => ctx.s.compact(7, next()), Errors.FutureRev);
    expect(ctx.s.compact(4, next()).revision).toBe(6);
    expectErr(() => ctx.s.compact(4, next()), Errors.Compacted);
    expectErr(() => ctx.s.compact(3, next()), Errors.Compacted);
    expect(ctx.s.compact(6, next()).revision).toBe(6); // the current revision is fine
    expect(ctx.s.rev).toBe(6); // compaction does not bump the revision
  });

  it('reads below the compacted revision fail; at it they work [etcd 3.4.23]', async () => {
    const c = ctx.s.compact(5, next());
    await ctx.s.commit();
    await c.physical;
    expectErr(() => get('a', undefined, { revision: 4 }), Errors.Compacted);
    expect(get('a', undefined, { revision: 5 }).kvs[0]!.value.toString()).toBe('2');
    expect(get('b', undefined, { revision: 5 }).count).toBe(0);
    expect(get('a', '\0', { revision: 6 }).count).toBe(1);
    await expect(ctx.s.eventsFrom(4, b('a'))).rejects.toBe(Errors.Compacted);
    expect((await ctx.s.eventsFrom(5, b('\0'), b('\0'))).events.map((e) => e.kv.modRevision)).toEqual([6]);
  });

  it('physical compaction keeps the latest version of live keys, and hashKV does not change', async () => {
    await ctx.s.commit();
    const sizeBefore = ctx.s.dbSize();
    const c = ctx.s.compact(6, next());
    const hashLogical = await ctx.s.hashKV();
    await ctx.s.commit();
    await c.physical;
    expect(await ctx.s.hashKV()).toEqual(hashLogical);
    expect(hashLogical.compactRevision).toBe(6);
    expect(ctx.s.dbSize()).toBeLessThan(sizeBefore);
    const s2 = await ctx.h.reopen();
    ctx.s = s2;
    expect(ctx.s.compactRev).toBe(6);
    expect(get('a').kvs[0]!.value.toString()).toBe('3');
    expect(await ctx.s.hashKV()).toEqual(hashLogical);
    expect(ctx.s.keyCount).toBe(1); // b's history is gone from the index too
  });

  it('hashKV before any compaction reports compact revision -1 [etcd 3.4.23]', async () => {
    const fresh = new StoreHarness();
    const st = await fresh.open();
    expect(await st.hashKV()).toMatchObject({ compactRevision: -1, hashRevision: 1 });
    await fresh.dispose();
  });

  it('hashKV: at or below the compacted revision fails; future fails; equal stores hash equal', async () => {
    ctx.s.compact(3, next());
    await expect(ctx.s.hashKV(3)).rejects.toBe(Errors.Compacted);
    await expect(ctx.s.hashKV(99)).rejects.toBe(Errors.FutureRev);
    const h2 = new StoreHarness();
    const t = await h2.open();
    t.put({ key: b('a'), value: b('1') });
    t.put({ key: b('a'), value: b('2') });
    t.put({ key: b('b'), value: b('1') });
    t.deleteRange({ key: b('b') });
    t.put({ key: b('a'), value: b('3') });
    t.compact(3);
    expect(await t.hashKV(5)).toEqual(await ctx.s.hashKV(5));
    expect((await t.hashKV(5)).hash).not.toBe((await t.hashKV(6)).hash);
    await h2.dispose();
  });
});

describe('change feed', () => {
  it('listeners get each write with its revision, events in order, prev kvs', () => {
    const got: { revision: number; types: string[]; prev: (string | undefined)[] }[] = [];
    ctx.s.onChange((c) =>
      got.push({ revision: c.revision, types: c.events.map((e) => e.type), prev: c.events.map((e) => e.prevKv?.value.toString()) }),
    );
    put('a', '1');
    put('a', '2');
    del('a', 'z');
    del('a'); // no change, no event
    expect(got).toEqual([
      { revision: 2, types: ['PUT'], prev: [undefined] },
      { revision: 3, types: ['PUT'], prev: ['1'] },
      { revision: 4, types: ['DELETE'], prev: ['2'] },
    ]);
  });

  it('a key changed twice in one txn (validation quirks): each event says what it wrote; prevKv is the pre-txn version', async () => {
    put('k', 'old'); // rev 2
    const got: string[] = [];
    ctx.s.onChange((c) =>
      c.events.forEach((e) => got.push(`${e.type}:${e.kv.value.toString()}:${e.kv.version}:prev=${e.prevKv?.value.toString()}`)),
    );
    // put in nested txn 1, delete in nested txn 2: accepted by etcd's check [etcd 3.4.23]
    ctx.s.txn(
      {
        compare: [],
        success: [
          { requestTxn: { compare: [], success: [{ requestPut: { key: b('k'), value: b('new') } }], failure: [] } },
          { requestTxn: { compare: [], success: [{ requestDeleteRange: { key: b('k') } }], failure: [] } },
        ],
        failure: [],
      },
      next(),
    );
    expect(got).toEqual(['PUT:new:2:prev=old', 'DELETE::0:prev=old']);
    const hist = await ctx.s.eventsFrom(3, b('k'), undefined, { prevKv: true });
    expect(hist.events.map((e) => `${e.type}:${e.kv.value.toString()}:${e.kv.version}:prev=${e.prevKv?.value.toString()}`)).toEqual(got);
    expect(get('k').count).toBe(0);
  });

  it('delete events carry only key and mod revision', async () => {
    put('a', '1');
    del('a');
    const { events } = await ctx.s.eventsFrom(1, b('a'));
    expect(events[1]!.kv).toEqual({ key: b('a'), createRevision: 0, modRevision: 3, version: 0, value: Buffer.alloc(0), lease: 0n });
  });

  it('eventsFrom spans committed and uncommitted writes, filters by range, pages by whole revisions', async () => {
    put('a', '1');
    put('b', '1');
    await ctx.s.commit();
    ctx.s.txn({ compare: [], success: [{ requestPut: { key: b('a'), value: b('2') } }, { requestPut: { key: b('c'), value: b('2') } }], failure: [] }, next());
    const all = await ctx.s.eventsFrom(2, b('a'), b('\0'), { prevKv: true });
    expect(all.events.map((e) => `${e.kv.key}@${e.kv.modRevision}`)).toEqual(['a@2', 'b@3', 'a@4', 'c@4']);
    expect(all.events[2]!.prevKv!.value.toString()).toBe('1');
    expect(all.nextRev).toBe(5);
    const page = await ctx.s.eventsFrom(2, b('a'), b('\0'), { limit: 3 });
    expect(page.events.length).toBe(4); // revision 4 is not split
    const onlyA = await ctx.s.eventsFrom(3, b('a'));
    expect(onlyA.events.map((e) => e.kv.modRevision)).toEqual([4]);
  });
});

describe('durability and snapshots', () => {
  it('consistent index and revision survive reopen; uncommitted applies do not', async () => {
    put('a', '1');
    put('b', '1');
    await ctx.s.commit();
    put('c', '1');
    ctx.s.setConsistentIndex(next());
    await ctx.h.crash();
    ctx.s = await ctx.h.open();
    expect(ctx.s.consistentIndex()).toBe(2);
    expect(ctx.s.rev).toBe(3);
    expect(keys(get('\0', '\0').kvs)).toEqual(['a', 'b']);
  });

  it('commit({ sync: true }) with nothing new still writes (and keeps) the consistent index', async () => {
    put('a');
    await ctx.s.commit();
    ctx.s.setConsistentIndex(next());
    await ctx.s.commit({ sync: true });
    await ctx.s.commit({ sync: true });
    await ctx.h.crash();
    ctx.s = await ctx.h.open();
    expect(ctx.s.consistentIndex()).toBe(2);
    expect(ctx.s.rev).toBe(2);
  });

  it('revision survives when every record was compacted away', async () => {
    put('a');
    del('a');
    ctx.s.compact(3, next());
    await ctx.s.commit();
    ctx.s = await ctx.h.reopen();
    expect(ctx.s.rev).toBe(3);
    expect(ctx.s.keyCount).toBe(0);
  });

  it('snapshot + restore reproduces the state, history and hash', async () => {
    put('a', '1');
    put('b', '2');
    put('a', '3', { lease: 4n });
    await ctx.s.commit();
    del('b');
    ctx.s.compact(3, next());
    const chunks: Buffer[] = [];
    for await (const c of ctx.s.snapshot()) chunks.push(c);
    const h2 = new StoreHarness();
    const t = await h2.open();
    t.put({ key: b('junk'), value: b('x') });
    await t.commit();
    // re-chunk to prove frames are independent of chunk boundaries
    const bytes = Buffer.concat(chunks);
    await t.restore([bytes.subarray(0, 7), bytes.subarray(7, 50), bytes.subarray(50)], 42);
    expect(t.consistentIndex()).toBe(42);
    expect(t.rev).toBe(ctx.s.rev);
    expect(t.compactRev).toBe(3);
    expect(t.range({ key: b('\0'), rangeEnd: b('\0') })).toEqual(get('\0', '\0'));
    expect(t.range({ key: b('a'), revision: 3 })).toEqual(get('a', undefined, { revision: 3 }));
    expect(await t.hashKV()).toEqual(await ctx.s.hashKV());
    const leased: string[] = [];
    t.forEachLeasedKey((k, l) => leased.push(`${k}:${l}`));
    expect(leased).toEqual(['a:4']);
    await h2.dispose();
  });

  it('an entry at or below the consistent index is refused (replay must skip it)', () => {
    put('a');
    expect(() => ctx.s.put({ key: b('a'), value: b('x') }, ctx.idx)).toThrow(/already applied/);
  });
});
