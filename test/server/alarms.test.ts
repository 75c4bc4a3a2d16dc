// The alarm list and what it refuses, as etcd's AlarmStore and its capped and
// corrupt appliers: activate/deactivate/get semantics, persistence beside the
// consistent index, reload after a snapshot restore; and the quota's costs.
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmAction, AlarmStore, AlarmType } from '../../src/server/alarms';
import { BackendQuota, DEFAULT_QUOTA_BYTES, putCost, quotaBytes, txnCost } from '../../src/server/quota';
import { Errors } from '../../src/errors';
import { alarmText } from '../../src/api/maintenance';
import { StoreHarness, b } from '../mvcc/helpers';

const { GET, ACTIVATE, DEACTIVATE } = AlarmAction;
const { NONE, NOSPACE, CORRUPT } = AlarmType;
const harnesses: StoreHarness[] = [];

async function open(): Promise<StoreHarness> {
  const h = new StoreHarness();
  harnesses.push(h);
  await h.open();
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.dispose();
});

describe('AlarmStore', () => {
  it('activates once per member and type, lists by type, deactivates what is there', async () => {
    const a = new AlarmStore((await open()).store);
    expect(a.apply(GET, '0', NONE)).toEqual([]);
    expect(a.apply(ACTIVATE, '7', NOSPACE)).toEqual([{ memberId: '7', alarm: NOSPACE }]);
    // Raising it again answers with the alarm already there.
    expect(a.apply(ACTIVATE, '7', NOSPACE)).toEqual([{ memberId: '7', alarm: NOSPACE }]);
    // etcd stores an alarm of type NONE too, and lists it among all alarms.
    expect(a.apply(ACTIVATE, '77', NONE)).toEqual([{ memberId: '77', alarm: NONE }]);
    expect(a.apply(GET, '0', NONE)).toEqual([{ memberId: '7', alarm: NOSPACE }, { memberId: '77', alarm: NONE }]);
    expect(a.apply(GET, '0', NOSPACE)).toEqual([{ memberId: '7', alarm: NOSPACE }]);
    expect(a.apply(GET, '0', CORRUPT)).toEqual([]);
    expect(a.apply(DEACTIVATE, '5', NOSPACE)).toEqual([]);
    expect(a.apply(DEACTIVATE, '7', NOSPACE)).toEqual([{ memberId: '7', alarm: NOSPACE }]);
    expect(a.apply(GET, '0', NOSPACE)).toEqual([]);
    expect(a.apply(9, '7', NOSPACE)).toEqual([]);
  });

  it('refuses at apply what etcd refuses: NOSPACE puts, txns that put and grants; CORRUPT every change', async () => {
    const a = new AlarmStore((await open()).store);
    const put = { put: { key: b('k'), value: b('v') } };
    const del = { deleteRange: { key: b('k') } };
    const txnPut = { txn: { compare: [], success: [], failure: [{ requestPut: { key: b('k'), value: b('v') } }] } };
    const txnDel = { txn: { compare: [], success: [{ requestDeleteRange: { key: b('k') } }], failure: [] } };
    const compaction = { compaction: { revision: 1 } };
    expect(a.restrictive).toBe(false);
    expect([put, del, txnPut, txnDel, compaction].map((r) => a.refusal(r))).toEqual([null, null, null, null, null]);
    a.apply(ACTIVATE, '1', NONE);
    expect(a.restrictive).toBe(false);
    a.apply(ACTIVATE, '1', NOSPACE);
    expect(a.restrictive).toBe(true);
    expect([put, del, txnPut, txnDel, compaction].map((r) => a.refusal(r))).toEqual([Errors.NoSpace, null, Errors.NoSpace, null, null]);
    expect([a.leaseRefusal(true), a.leaseRefusal(false)]).toEqual([Errors.NoSpace, null]);
    a.apply(ACTIVATE, '2', CORRUPT);
    expect([put, del, txnPut, txnDel, compaction].map((r) => a.refusal(r))).toEqual(Array(5).fill(Errors.Corrupt));
    expect([a.leaseRefusal(true), a.leaseRefusal(false)]).toEqual([Errors.Corrupt, Errors.Corrupt]);
    a.apply(DEACTIVATE, '2', CORRUPT);
    a.apply(DEACTIVATE, '1', NOSPACE);
    expect(a.restrictive).toBe(false);
    expect(a.refusal(put)).toBeNull();
  });

  it('keeps its alarms across a restart and takes a snapshot\'s alarms on restore', async () => {
    const h = await open();
    let a = new AlarmStore(h.store);
    a.apply(ACTIVATE, '7', NOSPACE);
    a.apply(ACTIVATE, '8', CORRUPT);
    a.apply(DEACTIVATE, '8', CORRUPT);
    h.store.setConsistentIndex(3);
    await h.store.commit();
    await h.reopen();
    a = new AlarmStore(h.store);
    expect(a.list()).toEqual([{ memberId: '7', alarm: NOSPACE }]);
    expect(a.restrictive).toBe(true);

    const chunks: Buffer[] = [];
    for await (const c of h.store.snapshot()) chunks.push(c);
    const other = await open();
    const a2 = new AlarmStore(other.store);
    a2.apply(ACTIVATE, '9', CORRUPT);
    await other.store.restore(chunks);
    expect(a2.list()).toEqual([{ memberId: '7', alarm: NOSPACE }]);
    expect(a2.refusal({ put: { key: b('k'), value: b('v') } })).toBe(Errors.NoSpace);
  });

  it('writes alarms as etcd lists them among Status errors', () => {
    expect(alarmText({ memberId: '7', alarm: NOSPACE })).toBe('memberID:7 alarm:NOSPACE ');
    expect(alarmText({ memberId: '77', alarm: NONE })).toBe('memberID:77 ');
    expect(alarmText({ memberId: '0', alarm: CORRUPT })).toBe('alarm:CORRUPT ');
  });
});

describe('backend quota', () => {
  it('costs requests as etcd 3.4 does', () => {
    expect(putCost({ key: b('abc'), value: b('12345') })).toBe(256 + 8);
    const p = (k: string, v: string) => ({ requestPut: { key: b(k), value: b(v) } });
    // The larger branch; deletes, ranges and a nested txn's puts cost nothing.
    expect(txnCost({ compare: [], success: [p('a', 'bb'), { requestDeleteRange: { key: b('x') } }], failure: [p('abcd', 'e')] })).toBe(256 + 5);
    expect(txnCost({ compare: [], success: [{ requestTxn: { compare: [], success: [p('a', 'b')], failure: [] } }], failure: [] })).toBe(0);
  });

  it('reads the flag as etcd: 0 is 2 GiB, negative is off; a request fits strictly below', () => {
    expect(quotaBytes(0)).toBe(DEFAULT_QUOTA_BYTES);
    expect(quotaBytes(-1)).toBe(Infinity);
    expect(quotaBytes(1000)).toBe(1000);
    let inUse = 700;
    const q = new BackendQuota(1000, () => inUse);
    expect(q.available(299)).toBe(true);
    expect(q.available(300)).toBe(false);
    expect(q.available(0)).toBe(true);
    inUse = 2000;
    expect(q.available(0)).toBe(true);
    expect(q.available(1)).toBe(false);
    expect(new BackendQuota(Infinity, () => 1e15).available(1e9)).toBe(true);
  });
});
