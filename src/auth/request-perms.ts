// What each request needs of its caller's permissions, as etcd's auth applier
// and read path ask it: Range reads its range; Put writes its key (and reads
// it for prev_kv, and may only attach a lease whose keys it may all write);
// DeleteRange writes its range (and reads it for prev_kv); a Txn needs all of
// that for every operation of both branches, nested ones included, and read
// access to every compared key; LeaseRevoke writes every key of the lease.
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest, WriteRequest } from '../mvcc/types';
import type { AuthInfo, AuthStore } from './auth-store';
import { READ, WRITE } from './range-perm';

const NONE = Buffer.alloc(0);

/** The keys attached to a lease (for Put with a lease and LeaseRevoke). */
export type LeaseKeys = (lease: bigint) => Buffer[];

export function checkRange(auth: AuthStore, who: AuthInfo | undefined, r: RangeRequest): void {
  auth.check(who, READ, r.key, r.rangeEnd ?? NONE);
}

function checkPut(auth: AuthStore, who: AuthInfo | undefined, r: PutRequest, leaseKeys: LeaseKeys): void {
  auth.check(who, WRITE, r.key);
  if (r.lease && r.lease !== 0n) for (const k of leaseKeys(r.lease)) auth.check(who, WRITE, k);
  if (r.prevKv) auth.check(who, READ, r.key);
}

function checkDelete(auth: AuthStore, who: AuthInfo | undefined, r: DeleteRangeRequest): void {
  auth.check(who, WRITE, r.key, r.rangeEnd ?? NONE);
  if (r.prevKv) auth.check(who, READ, r.key, r.rangeEnd ?? NONE);
}

export function checkTxn(auth: AuthStore, who: AuthInfo | undefined, t: TxnRequest, leaseKeys: LeaseKeys): void {
  for (const c of t.compare) auth.check(who, READ, c.key, c.rangeEnd ?? NONE);
  const ops = (list: RequestOp[]): void => {
    for (const op of list) {
      if (op.requestRange) checkRange(auth, who, op.requestRange);
      else if (op.requestPut) checkPut(auth, who, op.requestPut, leaseKeys);
      else if (op.requestDeleteRange) checkDelete(auth, who, op.requestDeleteRange);
      else if (op.requestTxn) checkTxn(auth, who, op.requestTxn, leaseKeys);
    }
  };
  ops(t.success);
  ops(t.failure);
}

/** At apply, for a write entry (compaction needs nothing, as in etcd). */
export function checkWrite(auth: AuthStore, who: AuthInfo | undefined, req: WriteRequest, leaseKeys: LeaseKeys): void {
  if ('put' in req) checkPut(auth, who, req.put, leaseKeys);
  else if ('deleteRange' in req) checkDelete(auth, who, req.deleteRange);
  else if ('txn' in req) checkTxn(auth, who, req.txn, leaseKeys);
}

export function checkLeaseRevoke(auth: AuthStore, who: AuthInfo | undefined, lease: bigint, leaseKeys: LeaseKeys): void {
  for (const k of leaseKeys(lease)) auth.check(who, WRITE, k);
}
