// The lessor as a state machine over a real MVCC store: revoke deletes every
// attached key in one revision, records survive a reopen and a snapshot
// restore, and expiry follows the leader's clock only.
import { afterEach, describe, expect, it } from 'vitest';
import { StoreHarness, b } from '../mvcc/helpers';
import { Lessor } from '../../src/lease/lessor';
import { Errors } from '../../src/errors';
import type { ChangeBatch } from '../../src/mvcc/types';

const harnesses: StoreHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.store.close().then(() => h.db.close()).catch(() => undefined);
});

async function open(): Promise<StoreHarness> {
  const h = new StoreHarness();
  harnesses.push(h);
  await h.open();
  return h;
}

describe('lessor', () => {
  it('attaches keys from puts, refuses unknown leases, revokes all keys in one revision', async () => {
    const h = await open();
    const l = new Lessor(h.store);
    l.applyGrant(7n, 10);
    expect(() => l.applyGrant(7n, 10)).toThrow(Errors.LeaseExist);
    h.store.put({ key: b('a'), value: b('1'), lease: 7n }, 1);
    h.store.put({ key: b('b'), value: b('1'), lease: 7n }, 2);
    h.store.put({ key: b('c'), value: b('1'), lease: 7n }, 3);
    h.store.put({ key: b('c'), value: b('2') }, 4); // re-put without the lease detaches it
    expect(() => h.store.put({ key: b('x'), value: b('1'), lease: 8n }, 5)).toThrow(Errors.LeaseNotFound);
    expect([...l.get(7n)!.keys].sort()).toEqual(['a', 'b']);
    const batches: ChangeBatch[] = [];
    h.store.onChange((bt) => batches.push(bt));
    const rev = l.applyRevoke(7n, 6);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.revision).toBe(rev);
    expect(batches[0]!.events.map((e) => [e.type, e.kv.key.toString()])).toEqual([['DELETE', 'a'], ['DELETE', 'b']]);
    expect(h.store.range({ key: b('a'), rangeEnd: b('z') }).kvs.map((kv) => kv.key.toString())).toEqual(['c']);
    expect(l.get(7n)).toBeUndefined();
    expect(() => l.applyRevoke(7n, 7)).toThrow(Errors.LeaseNotFound);
    l.close();
  });

  it('keeps leases and attachments across a reopen and a snapshot restore', async () => {
    const h = await open();
    let l = new Lessor(h.store);
    l.applyGrant(1n, 30);
    l.applyGrant(2n, 60);
    h.store.setConsistentIndex(2);
    h.store.put({ key: b('k'), value: b('v'), lease: 2n }, 3);
    await h.store.commit();
    l.close();
    await h.reopen();
    l = new Lessor(h.store);
    expect(l.ids()).toEqual([1n, 2n]);
    expect([...l.get(2n)!.keys]).toEqual(['k']);
    const chunks: Buffer[] = [];
    for await (const c of h.store.snapshot()) chunks.push(c);
    const other = await open();
    const l2 = new Lessor(other.store);
    l2.applyGrant(99n, 5);
    await other.store.restore(chunks);
    expect(l2.ids()).toEqual([1n, 2n]);
    expect(l2.get(2n)!.ttl).toBe(60);
    expect([...l2.get(2n)!.keys]).toEqual(['k']);
    l.close();
    l2.close();
  });

  it('expires only on the primary, by its clock; promotion restarts every TTL', async () => {
    const h = await open();
    let now = 0;
    const l = new Lessor(h.store, () => now);
    l.applyGrant(1n, 5);
    now = 100_000;
    expect(l.expired(10)).toEqual([]); // a follower never expires anything
    expect(l.renew(1n)).toBe(5); // (renew is only called on the leader; harmless here)
    l.promote();
    now += 4_000;
    expect(l.expired(10)).toEqual([]);
    expect(l.remaining(l.get(1n)!)).toBe(1);
    expect(l.renew(1n)).toBe(5);
    now += 4_000;
    expect(l.expired(10)).toEqual([]);
    now += 2_000;
    expect(l.expired(10)).toEqual([1n]);
    expect(l.renew(1n)).toBe(0); // expired: its revoke is on the way
    expect(l.renew(42n)).toBe(0);
    l.demote();
    expect(l.expired(10)).toEqual([]);
    l.close();
  });
});
