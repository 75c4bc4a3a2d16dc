// A tiny, obviously-correct model of etcd's MVCC semantics for the
// model-based tests: a per-key list of every version ever written, and
// answers computed by brute force over it. Slow on purpose; no cleverness.

import { Errors } from '../../src/errors';
import {
  type Compare,
  CompareResult,
  CompareTarget,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  SortOrder,
  SortTarget,
  type TxnRequest,
  type TxnResponse,
} from '../../src/mvcc';

interface Version {
  key: string;
  value: Buffer;
  lease: bigint;
  main: number;
  tomb: boolean;
  create: number;
  version: number;
}

export class Model {
  byKey = new Map<string, Version[]>();
  rev = 1;
  compactRev = -1;
  leaseExists = (_id: bigint) => true;

  clone(): Model {
    const m = new Model();
    for (const [k, v] of this.byKey) m.byKey.set(k, v.slice());
    m.rev = this.rev;
    m.compactRev = this.compactRev;
    m.leaseExists = this.leaseExists;
    return m;
  }

  private latest(key: string, rev: number): Version | undefined {
    const vs = this.byKey.get(key) ?? [];
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i]!.main <= rev) return vs[i];
    return undefined;
  }

  live(key: string, rev: number): Version | undefined {
    const v = this.latest(key, rev);
    return v && !v.tomb ? v : undefined;
  }

  private inRange(k: string, key: Buffer, end?: Buffer): boolean {
    const s = key.toString('latin1');
    if (!end || end.length === 0) return k === s;
    if (end.length === 1 && end[0] === 0) return k >= s;
    return k >= s && k < end.toString('latin1');
  }

  private liveIn(key: Buffer, end: Buffer | undefined, rev: number): Version[] {
    return [...this.byKey.keys()]
      .filter((k) => this.inRange(k, key, end))
      .sort()
      .map((k) => this.live(k, rev))
      .filter((v): v is Version => v !== undefined);
  }

  private kv(v: Version): KeyValue {
    return { key: Buffer.from(v.key, 'latin1'), createRevision: v.create, modRevision: v.main, version: v.version, value: v.value, lease: v.lease };
  }

  /** Only sorts with an explicit order or target KEY (the NONE quirk lives in the table test). */
  range(r: RangeRequest, cur = this.rev): RangeResponse {
    const req = r.revision ?? 0;
    if (req > cur) throw Errors.FutureRev;
    const rev = req <= 0 ? cur : req;
    if (rev < this.compactRev) throw Errors.Compacted;
    let vs = this.liveIn(r.key, r.rangeEnd, rev);
    const count = vs.length;
    if (r.countOnly) return { revision: cur, kvs: [], more: false, count };
    vs = vs.filter(
      (v) =>
        !(r.minModRevision && v.main < r.minModRevision) &&
        !(r.maxModRevision && v.main > r.maxModRevision) &&
        !(r.minCreateRevision && v.create < r.minCreateRevision) &&
        !(r.maxCreateRevision && v.create > r.maxCreateRevision),
    );
    const kvs = vs.map((v) => this.kv(v));
    const t = r.sortTarget ?? SortTarget.KEY;
    const field = (kv: KeyValue): number | Buffer =>
      t === SortTarget.VERSION ? kv.version : t === SortTarget.CREATE ? kv.createRevision : t === SortTarget.MOD ? kv.modRevision : t === SortTarget.VALUE ? (kv.value as Buffer) : (kv.key as Buffer);
    const cmp = (a: KeyValue, b: KeyValue) => {
      const x = field(a);
      const y = field(b);
      return typeof x === 'number' ? x - (y as number) : Buffer.compare(x, y as Buffer);
    };
    if (r.sortOrder === SortOrder.ASCEND) kvs.sort(cmp);
    if (r.sortOrder === SortOrder.DESCEND) kvs.sort((a, b) => cmp(b, a));
    const limit = r.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs.length = limit;
    if (r.keysOnly) for (const kv of kvs) kv.value = Buffer.alloc(0);
    return { revision: cur, kvs, more, count };
  }

  private write(key: string, value: Buffer, lease: bigint, main: number): KeyValue | undefined {
    const prev = this.live(key, main);
    const list = this.byKey.get(key) ?? [];
    this.byKey.set(key, list);
    list.push({ key, value, lease, main, tomb: false, create: prev ? prev.create : main, version: prev ? prev.version + 1 : 1 });
    return prev ? this.kv(prev) : undefined;
  }

  private remove(key: Buffer, end: Buffer | undefined, main: number): KeyValue[] {
    const gone = this.liveIn(key, end, main);
    for (const v of gone) {
      this.byKey.get(v.key)!.push({ key: v.key, value: Buffer.alloc(0), lease: 0n, main, tomb: true, create: 0, version: 0 });
    }
    return gone.map((v) => this.kv(v));
  }

  private compare(c: Compare, rev: number): boolean {
    const vs = this.liveIn(c.key, c.rangeEnd, rev);
    if (vs.length === 0 && c.target === CompareTarget.VALUE) return false;
    const one = (v: Version | undefined) => {
      let r = 0;
      if (c.target === CompareTarget.VALUE) r = Buffer.compare(v?.value ?? Buffer.alloc(0), c.value ?? Buffer.alloc(0));
      if (c.target === CompareTarget.VERSION) r = Math.sign((v?.version ?? 0) - (c.version ?? 0));
      if (c.target === CompareTarget.CREATE) r = Math.sign((v?.create ?? 0) - (c.createRevision ?? 0));
      if (c.target === CompareTarget.MOD) r = Math.sign((v?.main ?? 0) - (c.modRevision ?? 0));
      if (c.target === CompareTarget.LEASE) r = (v?.lease ?? 0n) < (c.lease ?? 0n) ? -1 : (v?.lease ?? 0n) > (c.lease ?? 0n) ? 1 : 0;
      return c.result === CompareResult.EQUAL ? r === 0 : c.result === CompareResult.NOT_EQUAL ? r !== 0 : c.result === CompareResult.GREATER ? r > 0 : r < 0;
    };
    return vs.length === 0 ? one(undefined) : vs.every(one);
  }

  /** A plain Put checks the lease before ignore_* (a txn does the reverse) [etcd 3.4.23]. */
  put(p: PutRequest): PutResponse {
    if (p.lease && !this.leaseExists(p.lease)) throw Errors.LeaseNotFound;
    return this.txn({ compare: [], success: [{ requestPut: p }], failure: [] }).responses[0]!.responsePut!;
  }

  /** Applies one write request to a copy; the copy replaces this model only if nothing threw. */
  txn(t: TxnRequest): TxnResponse {
    const m = this.clone();
    const resp = m.runTxn(t);
    Object.assign(this, { byKey: m.byKey, rev: m.rev });
    return resp;
  }

  private runTxn(t: TxnRequest): TxnResponse {
    const begin = this.rev;
    const main = begin + 1;
    let changed = false;
    const cur = () => (changed ? main : begin);
    // Compare outcomes of every (nested) txn are fixed on the pre-txn state.
    const decide = (tx: TxnRequest): boolean => tx.compare.every((c) => this.compare(c, begin));
    const run = (tx: TxnRequest): TxnResponse => {
      const ok = decide(tx);
      const responses: ResponseOp[] = [];
      for (const op of ok ? tx.success : tx.failure) responses.push(runOp(op));
      return { revision: 0, succeeded: ok, responses };
    };
    const check = (tx: TxnRequest): void => {
      for (const op of decide(tx) ? tx.success : tx.failure) {
        const p = op.requestPut;
        if (p && (p.ignoreValue || p.ignoreLease) && !this.live(p.key.toString('latin1'), begin)) throw Errors.KeyNotFound;
        if (p && p.lease && !this.leaseExists(p.lease)) throw Errors.LeaseNotFound;
        const rr = op.requestRange;
        if (rr && rr.revision && rr.revision > begin) throw Errors.FutureRev;
        if (rr && rr.revision && rr.revision < this.compactRev) throw Errors.Compacted;
        if (op.requestTxn) check(op.requestTxn);
      }
    };
    const runOp = (op: RequestOp): ResponseOp => {
      if (op.requestRange) return { responseRange: this.range(op.requestRange, cur()) };
      if (op.requestPut) {
        const p = op.requestPut;
        const key = p.key.toString('latin1');
        const prev = this.live(key, cur());
        // Deleted earlier in the same txn (a literal "\0" range_end slips past the
        // duplicate check). etcd 3.4 panics here; the store refuses the whole txn.
        if ((p.ignoreValue || p.ignoreLease) && !prev) throw Errors.KeyNotFound;
        const prevKv = this.write(key, p.ignoreValue ? prev!.value : (p.value ?? Buffer.alloc(0)), p.ignoreLease ? prev!.lease : (p.lease ?? 0n), main);
        changed = true;
        return { responsePut: p.prevKv && prevKv ? { revision: main, prevKv } : { revision: main } };
      }
      if (op.requestDeleteRange) {
        const d = op.requestDeleteRange;
        const gone = this.remove(d.key, d.rangeEnd, main);
        if (gone.length) changed = true;
        return { responseDeleteRange: { revision: cur(), deleted: gone.length, prevKvs: d.prevKv ? gone : [] } };
      }
      return { responseTxn: run(op.requestTxn!) };
    };
    check(t);
    const resp = run(t);
    resp.revision = cur();
    if (changed) this.rev = main;
    return resp;
  }

  compact(rev: number): void {
    if (rev <= this.compactRev) throw Errors.Compacted;
    if (rev > this.rev) throw Errors.FutureRev;
    this.compactRev = rev;
  }

  /** Every event with revision >= from, in order (tombstones carry only key and mod revision). */
  events(from: number): string[] {
    const all: Version[] = [];
    for (const vs of this.byKey.values()) for (const v of vs) if (v.main >= from) all.push(v);
    // Within a revision, order follows the store's sub revisions; compare as sorted sets per revision.
    return all.map((v) => `${v.main}:${v.tomb ? 'D' : 'P'}:${v.key}:${v.tomb ? '' : `${v.value.toString('latin1')}:${v.version}:${v.create}:${v.lease}`}`).sort();
  }
}
