// The backend quota (etcd's --quota-backend-bytes): a write that would take the
// store past it is refused with "database space exceeded", and the member that
// refused it raises the NOSPACE alarm through Raft, which stops every member
// from applying new data until an operator frees space and disarms the alarm.
//
// Costs are etcd's estimates (etcdserver/quota.go): a put costs its key and
// value plus 256 bytes of metadata; a txn costs the larger of its two branches'
// top-level puts (a nested txn's puts are not counted, as in etcd 3.4); a lease
// grant costs 64 bytes. What the cost is compared against differs on purpose:
// etcd measures its bbolt file, which only shrinks on defragment; etcd-ts
// measures the bytes its records take (Status dbSizeInUse), because LevelDB
// gives space back by itself as it compacts, so a compaction is enough to make
// room again.
import type { PutRequest, TxnRequest } from '../mvcc/types';

/** etcd's default quota when the flag is 0: 2 GiB. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd warns above this (8 GiB); so does etcd-ts. */
export const MAX_QUOTA_BYTES = 8 * 1024 * 1024 * 1024;

const KV_OVERHEAD = 256;
const LEASE_OVERHEAD = 64;

export function putCost(r: PutRequest): number {
  return KV_OVERHEAD + r.key.length + (r.value?.length ?? 0);
}

export function txnCost(r: TxnRequest): number {
  const branch = (ops: TxnRequest['success']): number => {
    let n = 0;
    for (const op of ops) if (op.requestPut) n += putCost(op.requestPut);
    return n;
  };
  return Math.max(branch(r.success), branch(r.failure));
}

export const LEASE_GRANT_COST = LEASE_OVERHEAD;

/**
 * The quota in bytes for the flag's value, as etcd reads it: 0 means the
 * default, a negative value switches the quota off (Infinity).
 */
export function quotaBytes(flag: number): number {
  if (flag < 0) return Infinity;
  return flag === 0 ? DEFAULT_QUOTA_BYTES : flag;
}

export class BackendQuota {
  constructor(
    private readonly limit: number,
    private readonly inUse: () => number,
  ) {}

  /** Whether a request of this cost fits (etcd's Available: strictly below the quota; no cost always fits). */
  available(cost: number): boolean {
    return cost === 0 || this.limit === Infinity || this.inUse() + cost < this.limit;
  }
}
