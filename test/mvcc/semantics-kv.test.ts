// etcd's documented KV behaviour, case by case: revisions, versions and
// ranges. Rows marked [etcd 3.4.23] were checked against the real binary
// (etcdctl / raw gRPC via the etcd3 package) before being written down.

import { beforeEach, describe, expect, it } from 'vitest';
import { Errors, GrpcCode } from '../../src/errors';
import { SortOrder, SortTarget } from '../../src/mvcc';
import { b, keys } from './helpers';
import { ctx, del, expectErr, get, next, put, useFreshStore } from './table';

useFreshStore();

describe('revisions and versions', () => {
  it('a new store is at revision 1, compacted revision -1, empty', () => {
    expect(ctx.s.rev).toBe(1);
    expect(ctx.s.compactRev).toBe(-1);
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
    expect(ctx.s.txn({ compare: [], success: [{ requestDeleteRange: { key: b('zz') } }], failure: [] }, next()).revision).toBe(2);
    expect(ctx.s.rev).toBe(2);
  });

  it('a read-only txn does not bump the revision [etcd 3.4.23]', () => {
    put('a');
    const r = ctx.s.txn({ compare: [], success: [{ requestRange: { key: b('a') } }], failure: [] }, next());
    expect(r.revision).toBe(2);
    expect(ctx.s.rev).toBe(2);
  });

  it('all writes of one txn share one main revision', () => {
    const r = ctx.s.txn(
      {
        compare: [],
        success: [
          { requestPut: { key: b('a'), value: b('1') } },
          { requestPut: { key: b('b'), value: b('2') } },
        ],
        failure: [],
      },
      next(),
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
    ctx.s.put({ key: b('a'), ignoreValue: true, lease: 9n }, next());
    expect(get('a').kvs[0]).toMatchObject({ version: 2, lease: 9n });
    expect(get('a').kvs[0]!.value.toString()).toBe('keep');
    ctx.s.put({ key: b('a'), value: b('new'), ignoreLease: true }, next());
    expect(get('a').kvs[0]).toMatchObject({ version: 3, lease: 9n });
    expect(get('a').kvs[0]!.value.toString()).toBe('new');
  });

  it('ignore_value / ignore_lease on a missing key: key not found, nothing changes [etcd 3.4.23]', () => {
    expectErr(() => ctx.s.put({ key: b('m'), ignoreValue: true }, next()), Errors.KeyNotFound);
    expectErr(() => ctx.s.put({ key: b('m'), ignoreLease: true }, next()), Errors.KeyNotFound);
    expect(ctx.s.rev).toBe(1);
    expect(ctx.s.consistentIndex()).toBe(2); // the entries still count as applied
  });

  it('a lease the lessor does not know: lease not found, nothing changes', () => {
    ctx.s.leaseExists = (id) => id === 5n;
    expectErr(() => put('a', 'v', { lease: 6n }), Errors.LeaseNotFound);
    expect(Errors.LeaseNotFound.code).toBe(GrpcCode.NotFound);
    expect(put('a', 'v', { lease: 5n }).revision).toBe(2);
  });

  it('plain put checks the lease before ignore_value; a txn checks ignore_value first [etcd 3.4.23]', () => {
    ctx.s.leaseExists = () => false;
    expectErr(() => ctx.s.put({ key: b('m'), ignoreValue: true, lease: 12345n }, next()), Errors.LeaseNotFound);
    expectErr(
      () => ctx.s.txn({ compare: [], success: [{ requestPut: { key: b('m'), ignoreValue: true, lease: 12345n } }], failure: [] }, next()),
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
    const r = ctx.s.range({ key: Buffer.from(key, 'latin1'), ...(end !== undefined ? { rangeEnd: Buffer.from(end, 'latin1') } : {}) });
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

