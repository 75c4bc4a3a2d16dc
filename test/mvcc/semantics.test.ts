// etcd's documented KV behaviour, case by case. Rows marked [etcd 3.4.23]
// were checked against the real binary (etcdctl / raw gRPC via the etcd3
// package) before being written down here.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EtcdError, Errors, GrpcCode } from '../../src/errors';
import { CompareResult as CR, CompareTarget as CT, type MvccStore, SortOrder, SortTarget } from '../../src/mvcc';
import { StoreHarness, b, keys } from './helpers';

let h: StoreHarness;
let s: MvccStore;
let idx = 0;
const put = (k: string, v = 'v', extra: object = {}) => s.put({ key: b(k), value: b(v), ...extra }, ++idx);
const del = (k: string, end?: string, prevKv = false) =>
  s.deleteRange({ key: b(k), ...(end !== undefined ? { rangeEnd: b(end) } : {}), prevKv }, ++idx);
const get = (k: string, end?: string, extra: object = {}) =>
  s.range({ key: b(k), ...(end !== undefined ? { rangeEnd: b(end) } : {}), ...extra });

/** Asserts the exact shared error (same code and text as etcd). */
function expectErr(f: () => unknown, e: EtcdError): void {
  let thrown: unknown;
  try {
    f();
  } catch (x) {
    thrown = x;
  }
  expect(thrown).toBeInstanceOf(EtcdError);
  expect((thrown as EtcdError).code).toBe(e.code);
  expect((thrown as EtcdError).message).toBe(e.message);
}

beforeEach(async () => {
  h = new StoreHarness();
  s = await h.open();
  idx = 0;
});
afterEach(async () => h.dispose());

describe('revisions and versions', () => {
  it('a new store is at revision 1, compacted revision -1, empty', () => {
    expect(s.rev).toBe(1);
    expect(s.compactRev).toBe(-1);
    expect(get('a')).toEqual({ revision: 1, kvs: [], more: false, count: 0 });
  });

  it('put takes the next revision; version counts puts; create revision stays', () => {
    expect(put('a', '1').revision).toBe(2);
    expect(put('a', '2').revision).toBe(3);
    expect(get('a').kvs[0]).toMatchObject({ createRevision: 2, modRevision: 3, version: 2, lease: 0n });
    expect(get('a').kvs[0]!.value.toString()).toBe('2');
  });

  it('delete ends the generation; a later put restarts at version 1 with a new create revision', () => {
    put('a');
    put('a');
    expect(del('a')).toEqual({ revision: 4, deleted: 1, prevKvs: [] });
    expect(get('a').count).toBe(0);
    put('a');
    expect(get('a').kvs[0]).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 });
  });

  it('deleting absent keys does not bump the revision [etcd 3.4.23]', () => {
    put('a');
    expect(del('zz')).toEqual({ revision: 2, deleted: 0, prevKvs: [] });
    expect(s.txn({ compare: [], success: [{ requestDeleteRange: { key: b('zz') } }], failure: [] }, ++idx).revision).toBe(2);
    expect(s.rev).toBe(2);
  });

  it('a read-only txn does not bump the revision [etcd 3.4.23]', () => {
    put('a');
    const r = s.txn({ compare: [], success: [{ requestRange: { key: b('a') } }], failure: [] }, ++idx);
    expect(r.revision).toBe(2);
    expect(s.rev).toBe(2);
  });

  it('all writes of one txn share one main revision', () => {
    const r = s.txn(
      {
        compare: [],
        success: [
          { requestPut: { key: b('a'), value: b('1') } },
          { requestPut: { key: b('b'), value: b('2') } },
        ],
        failure: [],
      },
      ++idx,
    );
    expect(r.revision).toBe(2);
    expect(get('a', 'z').kvs.map((kv) => kv.modRevision)).toEqual([2, 2]);
  });

  it('put prev_kv returns the previous version, absent for a new key', () => {
    expect(put('a', '1', { prevKv: true }).prevKv).toBeUndefined();
    const r = put('a', '2', { prevKv: true });
    expect(r.prevKv).toMatchObject({ createRevision: 2, modRevision: 2, version: 1 });
    expect(r.prevKv!.value.toString()).toBe('1');
  });

  it('ignore_value keeps the value, ignore_lease keeps the lease', () => {
    put('a', 'keep', { lease: 7n });
    s.put({ key: b('a'), ignoreValue: true, lease: 9n }, ++idx);
    expect(get('a').kvs[0]).toMatchObject({ version: 2, lease: 9n });
    expect(get('a').kvs[0]!.value.toString()).toBe('keep');
    s.put({ key: b('a'), value: b('new'), ignoreLease: true }, ++idx);
    expect(get('a').kvs[0]).toMatchObject({ version: 3, lease: 9n });
    expect(get('a').kvs[0]!.value.toString()).toBe('new');
  });

  it('ignore_value / ignore_lease on a missing key: key not found, nothing changes [etcd 3.4.23]', () => {
    expectErr(() => s.put({ key: b('m'), ignoreValue: true }, ++idx), Errors.KeyNotFound);
    expectErr(() => s.put({ key: b('m'), ignoreLease: true }, ++idx), Errors.KeyNotFound);
    expect(s.rev).toBe(1);
    expect(s.consistentIndex()).toBe(2); // the entries still count as applied
  });

  it('a lease the lessor does not know: lease not found, nothing changes', () => {
    s.leaseExists = (id) => id === 5n;
    expectErr(() => put('a', 'v', { lease: 6n }), Errors.LeaseNotFound);
    expect(Errors.LeaseNotFound.code).toBe(GrpcCode.NotFound);
    expect(put('a', 'v', { lease: 5n }).revision).toBe(2);
  });

  it('plain put checks the lease before ignore_value; a txn checks ignore_value first [etcd 3.4.23]', () => {
    s.leaseExists = () => false;
    expectErr(() => s.put({ key: b('m'), ignoreValue: true, lease: 12345n }, ++idx), Errors.LeaseNotFound);
    expectErr(
      () => s.txn({ compare: [], success: [{ requestPut: { key: b('m'), ignoreValue: true, lease: 12345n } }], failure: [] }, ++idx),
      Errors.KeyNotFound,
    );
  });

  it('delete range with prev_kv returns the deleted versions and the count', () => {
    put('a', '1');
    put('b', '2');
    put('c', '3');
    const r = del('a', 'c', true);
    expect(r.deleted).toBe(2);
    expect(keys(r.prevKvs)).toEqual(['a', 'b']);
    expect(r.revision).toBe(5);
    expect(keys(get('\0', '\0').kvs)).toEqual(['c']);
  });
});

describe('range', () => {
  beforeEach(() => {
    for (const k of ['a', 'ab', 'abc', 'b', 'c\xff', 'd']) put(k, `v-${k}`);
  });

  it.each([
    ['single key', 'ab', undefined, ['ab']],
    ['half-open [a, b)', 'a', 'b', ['a', 'ab', 'abc']],
    ['"\\0" end: every key >= key', 'b', '\0', ['b', 'c\xff', 'd']],
    ['"\\0" + "\\0": all keys', '\0', '\0', ['a', 'ab', 'abc', 'b', 'c\xff', 'd']],
    ['prefix "ab" (end "ac")', 'ab', 'ac', ['ab', 'abc']],
    ['end below key: empty, not an error [etcd 3.4.23]', 'b', 'a', []],
    ['end equal to key: empty', 'b', 'b', []],
  ])('%s', (_name, key, end, want) => {
    const r = s.range({ key: Buffer.from(key, 'latin1'), ...(end !== undefined ? { rangeEnd: Buffer.from(end, 'latin1') } : {}) });
    expect(r.kvs.map((kv) => kv.key.toString('latin1'))).toEqual(want);
    expect(r.count).toBe(want.length);
  });

  it('limit sets more; count is the full count [etcd 3.4.23]', () => {
    const r = get('a', '\0', { limit: 2 });
    expect(keys(r.kvs)).toEqual(['a', 'ab']);
    expect(r).toMatchObject({ more: true, count: 6 });
    expect(get('a', '\0', { limit: 6 })).toMatchObject({ more: false, count: 6 });
  });

  it('count_only: no kvs, full count, more false even with a limit [etcd 3.4.23]', () => {
    expect(get('a', '\0', { countOnly: true, limit: 2 })).toEqual({ revision: 7, kvs: [], more: false, count: 6 });
  });

  it('keys_only clears values', () => {
    expect(get('a', 'b', { keysOnly: true }).kvs.map((kv) => kv.value.length)).toEqual([0, 0, 0]);
  });

  it('sort by key descending', () => {
    expect(keys(get('a', '\0', { sortOrder: SortOrder.DESCEND, limit: 3 }).kvs)).toEqual(['d', 'c\xff', 'b']);
  });

  it('sort targets VERSION / CREATE / MOD / VALUE', () => {
    put('b', 'zzz'); // b: version 2, mod 8
    put('a', '0'); // a: version 2, mod 9
    const order = (t: SortTarget, o: SortOrder) =>
      get('a', 'c', { sortTarget: t, sortOrder: o }).kvs.map((kv) => kv.key.toString());
    expect(order(SortTarget.VERSION, SortOrder.DESCEND)).toEqual(['a', 'b', 'ab', 'abc']); // ties keep key order
    expect(order(SortTarget.CREATE, SortOrder.DESCEND)).toEqual(['b', 'abc', 'ab', 'a']);
    expect(order(SortTarget.MOD, SortOrder.ASCEND)).toEqual(['ab', 'abc', 'b', 'a']);
    expect(order(SortTarget.VALUE, SortOrder.ASCEND)).toEqual(['a', 'ab', 'abc', 'b']);
  });

  it('target != KEY with order NONE sorts ascending, among the first limit+1 keys only [etcd 3.4.23]', () => {
    // Verified: a=1, b=3, c=2, d=1 versions; get a z --sort-by=VERSION --limit=2 -> a, c (more).
    put('ab');
    put('ab');
    put('abc');
    const r = get('a', '\0', { sortTarget: SortTarget.VERSION, limit: 2 });
    expect(keys(r.kvs)).toEqual(['a', 'abc']);
    expect(r.more).toBe(true);
    // With an explicit order everything is fetched, sorted, then cut.
    expect(keys(get('a', '\0', { sortTarget: SortTarget.VERSION, sortOrder: SortOrder.ASCEND, limit: 2 }).kvs)).toEqual(['a', 'b']);
  });

  it('min/max mod and create revision filters; count is before filters [etcd 3.4.23]', () => {
    put('a', 'again'); // a mod 8
    const r = get('a', '\0', { minModRevision: 4, maxModRevision: 7 });
    expect(keys(r.kvs)).toEqual(['abc', 'b', 'c\xff', 'd']);
    expect(r.count).toBe(6);
    expect(keys(get('a', '\0', { maxCreateRevision: 3 }).kvs)).toEqual(['a', 'ab']);
    expect(keys(get('a', '\0', { minCreateRevision: 6, limit: 1 }).kvs).length).toBe(1);
    expect(get('a', '\0', { minCreateRevision: 6, limit: 1 }).more).toBe(true);
    expect(get('a', '\0', { maxCreateRevision: 1, limit: 1 })).toMatchObject({ kvs: [], more: false, count: 6 });
  });

  it('historical reads; header revision is the current one', () => {
    put('a', 'new');
    const r = get('a', undefined, { revision: 2 });
    expect(r.revision).toBe(8);
    expect(r.kvs[0]!.value.toString()).toBe('v-a');
    expect(get('a', '\0', { revision: 3 }).count).toBe(2);
    del('a');
    expect(get('a', undefined, { revision: 8 }).kvs[0]!.value.toString()).toBe('new');
    expect(get('a', undefined, { revision: 9 }).count).toBe(0);
  });

  it('future revision: OutOfRange future-rev error', () => {
    expectErr(() => get('a', undefined, { revision: 8 }), Errors.FutureRev);
  });
});

describe('txn', () => {
  const txn = (compare: object[], success: object[] = [], failure: object[] = []) =>
    s.txn({ compare, success, failure } as never, ++idx);

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
    s.leaseExists = (id) => id === 3n;
    const before = get('\0', '\0');
    expectErr(
      () => txn([], [{ requestPut: { key: b('c'), value: b('1') } }, { requestPut: { key: b('d'), value: b('1'), lease: 99n } }]),
      Errors.LeaseNotFound,
    );
    expectErr(() => txn([], [{ requestDeleteRange: { key: b('a') } }, { requestPut: { key: b('m'), ignoreValue: true } }]), Errors.KeyNotFound);
    expectErr(() => txn([], [{ requestPut: { key: b('c'), value: b('1') } }, { requestRange: { key: b('a'), revision: 99 } }]), Errors.FutureRev);
    expect(s.rev).toBe(4);
    expect(get('\0', '\0')).toEqual(before);
  });

  it('ignore_value on a key deleted earlier in the same txn refuses the whole txn (etcd 3.4 panics here)', () => {
    // validateTxn accepts this: a literal "\0" range_end escapes the duplicate check.
    expectErr(
      () => txn([], [{ requestDeleteRange: { key: b('a'), rangeEnd: b('\0') } }, { requestPut: { key: b('b'), ignoreValue: true } }]),
      Errors.KeyNotFound,
    );
    expect(s.rev).toBe(4);
    expect(get('b').count).toBe(1);
  });

  it('txn range below the compacted revision (or negative after a compaction) is refused [etcd 3.4.23]', () => {
    expect(txn([], [{ requestRange: { key: b('a'), revision: -1 } }]).responses[0]!.responseRange!.count).toBe(1);
    s.compact(3, ++idx);
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
    expectErr(() => s.compact(7, ++idx), Errors.FutureRev);
    expect(s.compact(4, ++idx).revision).toBe(6);
    expectErr(() => s.compact(4, ++idx), Errors.Compacted);
    expectErr(() => s.compact(3, ++idx), Errors.Compacted);
    expect(s.compact(6, ++idx).revision).toBe(6); // the current revision is fine
    expect(s.rev).toBe(6); // compaction does not bump the revision
  });

  it('reads below the compacted revision fail; at it they work [etcd 3.4.23]', async () => {
    const c = s.compact(5, ++idx);
    await s.commit();
    await c.physical;
    expectErr(() => get('a', undefined, { revision: 4 }), Errors.Compacted);
    expect(get('a', undefined, { revision: 5 }).kvs[0]!.value.toString()).toBe('2');
    expect(get('b', undefined, { revision: 5 }).count).toBe(0);
    expect(get('a', '\0', { revision: 6 }).count).toBe(1);
    await expect(s.eventsFrom(4, b('a'))).rejects.toBe(Errors.Compacted);
    expect((await s.eventsFrom(5, b('\0'), b('\0'))).events.map((e) => e.kv.modRevision)).toEqual([6]);
  });

  it('physical compaction keeps the latest version of live keys, and hashKV does not change', async () => {
    await s.commit();
    const sizeBefore = s.dbSize();
    const c = s.compact(6, ++idx);
    const hashLogical = await s.hashKV();
    await s.commit();
    await c.physical;
    expect(await s.hashKV()).toEqual(hashLogical);
    expect(hashLogical.compactRevision).toBe(6);
    expect(s.dbSize()).toBeLessThan(sizeBefore);
    const s2 = await h.reopen();
    s = s2;
    expect(s.compactRev).toBe(6);
    expect(get('a').kvs[0]!.value.toString()).toBe('3');
    expect(await s.hashKV()).toEqual(hashLogical);
    expect(s.keyCount).toBe(1); // b's history is gone from the index too
  });

  it('hashKV: at or below the compacted revision fails; future fails; equal stores hash equal', async () => {
    s.compact(3, ++idx);
    await expect(s.hashKV(3)).rejects.toBe(Errors.Compacted);
    await expect(s.hashKV(99)).rejects.toBe(Errors.FutureRev);
    const h2 = new StoreHarness();
    const t = await h2.open();
    t.put({ key: b('a'), value: b('1') });
    t.put({ key: b('a'), value: b('2') });
    t.put({ key: b('b'), value: b('1') });
    t.deleteRange({ key: b('b') });
    t.put({ key: b('a'), value: b('3') });
    t.compact(3);
    expect(await t.hashKV(5)).toEqual(await s.hashKV(5));
    expect((await t.hashKV(5)).hash).not.toBe((await t.hashKV(6)).hash);
    await h2.dispose();
  });
});

describe('change feed', () => {
  it('listeners get each write with its revision, events in order, prev kvs', () => {
    const got: { revision: number; types: string[]; prev: (string | undefined)[] }[] = [];
    s.onChange((c) =>
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

  it('delete events carry only key and mod revision', async () => {
    put('a', '1');
    del('a');
    const { events } = await s.eventsFrom(1, b('a'));
    expect(events[1]!.kv).toEqual({ key: b('a'), createRevision: 0, modRevision: 3, version: 0, value: Buffer.alloc(0), lease: 0n });
  });

  it('eventsFrom spans committed and uncommitted writes, filters by range, pages by whole revisions', async () => {
    put('a', '1');
    put('b', '1');
    await s.commit();
    s.txn({ compare: [], success: [{ requestPut: { key: b('a'), value: b('2') } }, { requestPut: { key: b('c'), value: b('2') } }], failure: [] }, ++idx);
    const all = await s.eventsFrom(2, b('a'), b('\0'), { prevKv: true });
    expect(all.events.map((e) => `${e.kv.key}@${e.kv.modRevision}`)).toEqual(['a@2', 'b@3', 'a@4', 'c@4']);
    expect(all.events[2]!.prevKv!.value.toString()).toBe('1');
    expect(all.nextRev).toBe(5);
    const page = await s.eventsFrom(2, b('a'), b('\0'), { limit: 3 });
    expect(page.events.length).toBe(4); // revision 4 is not split
    const onlyA = await s.eventsFrom(3, b('a'));
    expect(onlyA.events.map((e) => e.kv.modRevision)).toEqual([4]);
  });
});

describe('durability and snapshots', () => {
  it('consistent index and revision survive reopen; uncommitted applies do not', async () => {
    put('a', '1');
    put('b', '1');
    await s.commit();
    put('c', '1');
    s.setConsistentIndex(++idx);
    await h.crash();
    s = await h.open();
    expect(s.consistentIndex()).toBe(2);
    expect(s.rev).toBe(3);
    expect(keys(get('\0', '\0').kvs)).toEqual(['a', 'b']);
  });

  it('revision survives when every record was compacted away', async () => {
    put('a');
    del('a');
    s.compact(3, ++idx);
    await s.commit();
    s = await h.reopen();
    expect(s.rev).toBe(3);
    expect(s.keyCount).toBe(0);
  });

  it('snapshot + restore reproduces the state, history and hash', async () => {
    put('a', '1');
    put('b', '2');
    put('a', '3', { lease: 4n });
    await s.commit();
    del('b');
    s.compact(3, ++idx);
    const chunks: Buffer[] = [];
    for await (const c of s.snapshot()) chunks.push(c);
    const h2 = new StoreHarness();
    const t = await h2.open();
    t.put({ key: b('junk'), value: b('x') });
    await t.commit();
    // re-chunk to prove frames are independent of chunk boundaries
    const bytes = Buffer.concat(chunks);
    await t.restore([bytes.subarray(0, 7), bytes.subarray(7, 50), bytes.subarray(50)], 42);
    expect(t.consistentIndex()).toBe(42);
    expect(t.rev).toBe(s.rev);
    expect(t.compactRev).toBe(3);
    expect(t.range({ key: b('\0'), rangeEnd: b('\0') })).toEqual(get('\0', '\0'));
    expect(t.range({ key: b('a'), revision: 3 })).toEqual(get('a', undefined, { revision: 3 }));
    expect(await t.hashKV()).toEqual(await s.hashKV());
    const leased: string[] = [];
    t.forEachLeasedKey((k, l) => leased.push(`${k}:${l}`));
    expect(leased).toEqual(['a:4']);
    await h2.dispose();
  });

  it('an entry at or below the consistent index is refused (replay must skip it)', () => {
    put('a');
    expect(() => s.put({ key: b('a'), value: b('x') }, idx)).toThrow(/already applied/);
  });
});
