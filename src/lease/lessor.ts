// The lessor: leases as a Raft state machine plus the leader's expiry clock.
// Grant and revoke are applied from committed entries on every member, in
// order, so ids, TTLs and attached keys are the same everywhere; the records
// are aux records of the MVCC store (same LevelDB batch as the consistent
// index, carried in snapshots). Attachments are not stored at all: they are
// derived from the keys' lease field, kept current from the change feed and
// rebuilt from the key index on start or restore. Only the leader keeps
// expiry times (its monotonic clock); followers never expire anything.
import { performance } from 'node:perf_hooks';
import { Errors } from '../errors';
import type { MvccStore } from '../mvcc/store';
import type { ChangeBatch, RequestOp } from '../mvcc/types';

/** etcd's MaxLeaseTTL: 9,000,000,000 s. */
export const MAX_LEASE_TTL = 9_000_000_000;
const AUX_PREFIX = 'lease/';

function encodeTtl(ttl: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(ttl, 0);
  return b;
}

export interface Lease {
  id: bigint;
  /** Granted TTL in seconds (after raising to the minimum). */
  ttl: number;
  /** Attached keys, latin1. */
  keys: Set<string>;
  /** Leader only: monotonic ms when the lease expires; Infinity on followers. */
  expiry: number;
}

export class Lessor {
  private readonly leases = new Map<bigint, Lease>();
  private primary = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly store: MvccStore,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.reload();
    this.unsubscribe.push(
      store.onChange((b) => this.track(b)),
      store.onRestore(() => this.reload()),
    );
    // Puts naming an unknown lease fail at apply time with LeaseNotFound.
    store.leaseExists = (id: bigint) => this.leases.has(id);
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }

  // ---- the state machine (every member, from committed entries) ------------

  applyGrant(id: bigint, ttl: number): Lease {
    if (this.leases.has(id)) throw Errors.LeaseExist;
    const l: Lease = { id, ttl, keys: new Set(), expiry: this.primary ? this.now() + ttl * 1000 : Infinity };
    this.leases.set(id, l);
    this.store.putAux(AUX_PREFIX + id.toString(), encodeTtl(ttl));
    return l;
  }

  /**
   * Deletes every attached key in one MVCC txn (one revision, so watchers see
   * the deletes together) and forgets the lease. Returns the revision after.
   */
  applyRevoke(id: bigint, raftIndex: number): number {
    const l = this.leases.get(id);
    if (!l) throw Errors.LeaseNotFound;
    const success: RequestOp[] = [...l.keys].sort().map((k) => ({ requestDeleteRange: { key: Buffer.from(k, 'latin1') } }));
    if (success.length > 0) this.store.applyWrite({ txn: { compare: [], success, failure: [] } }, raftIndex);
    this.leases.delete(id);
    this.store.putAux(AUX_PREFIX + id.toString(), null);
    this.store.setConsistentIndex(raftIndex);
    return this.store.rev;
  }

  // ---- reads -----------------------------------------------------------------

  get(id: bigint): Lease | undefined {
    return this.leases.get(id);
  }

  ids(): bigint[] {
    return [...this.leases.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  // ---- the leader's clock ----------------------------------------------------

  /**
   * Becoming leader: nobody knows how long the old leader's clocks had left,
   * so every lease gets its full TTL again (etcd's Promote), rather than
   * expiring everything that was renewed on the old leader.
   */
  promote(extendMs = 0): void {
    this.primary = true;
    const t = this.now() + extendMs;
    for (const l of this.leases.values()) l.expiry = t + l.ttl * 1000;
  }

  demote(): void {
    this.primary = false;
    for (const l of this.leases.values()) l.expiry = Infinity;
  }

  /** Leader only: restarts the lease's TTL. 0 when the lease is unknown or already expired. */
  renew(id: bigint): number {
    const l = this.leases.get(id);
    if (!l) return 0;
    const t = this.now();
    if (l.expiry <= t) return 0; // its revoke is on the way
    l.expiry = t + l.ttl * 1000;
    return l.ttl;
  }

  /** Leader only: whole seconds left (etcd truncates), never below 0. */
  remaining(l: Lease): number {
    if (!this.primary || l.expiry === Infinity) return l.ttl;
    return Math.max(0, Math.trunc((l.expiry - this.now()) / 1000));
  }

  /** Leader only: leases past their expiry, oldest first, at most max of them. */
  expired(max: number): bigint[] {
    if (!this.primary) return [];
    const t = this.now();
    const out: Lease[] = [];
    for (const l of this.leases.values()) if (l.expiry <= t) out.push(l);
    out.sort((a, b) => a.expiry - b.expiry);
    return out.slice(0, max).map((l) => l.id);
  }

  // ---- attachments -----------------------------------------------------------

  private track(b: ChangeBatch): void {
    for (const e of b.events) {
      const before = e.prevKv?.lease ?? 0n;
      const after = e.type === 'PUT' ? e.kv.lease : 0n;
      if (before === after) continue;
      const key = e.kv.key.toString('latin1');
      if (before !== 0n) this.leases.get(before)?.keys.delete(key);
      if (after !== 0n) this.leases.get(after)?.keys.add(key);
    }
  }

  /** Start and snapshot restore: records from the store, attachments from the key index. */
  private reload(): void {
    this.leases.clear();
    const t = this.now();
    for (const [name, value] of this.store.auxEntries(AUX_PREFIX)) {
      const id = BigInt(name.slice(AUX_PREFIX.length));
      const ttl = value.readDoubleBE(0);
      this.leases.set(id, { id, ttl, keys: new Set(), expiry: this.primary ? t + ttl * 1000 : Infinity });
    }
    this.store.forEachLeasedKey((key, lease) => this.leases.get(lease)?.keys.add(key.toString('latin1')));
  }
}
