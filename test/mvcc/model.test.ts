// Model-based test: seeded random puts, deletes, txns (nested, with
// compares), ranges and compactions against the store and the brute-force
// model; every answer and every error must be equal. The store is committed,
// closed and reopened at random points, and physical compaction runs
// concurrently. A failure prints the seed and step to replay it.

import { afterEach, describe, expect, it } from 'vitest';
import { EtcdError } from '../../src/errors';
import {
  type Compare,
  type Event,
  type MvccStore,
  type RangeRequest,
  type RequestOp,
  SortOrder,
  SortTarget,
  type TxnRequest,
  validateTxn,
} from '../../src/mvcc';
import { Model } from './model';
import { StoreHarness, byteValues } from './helpers';

import { mulberry32 as rng } from '../../src/raft/prng';

const SMALL_KEYS = ['a', 'aa', 'ab', 'b', 'ba', 'c', 'd', 'dd', 'e', 'f', 'g\xff', 'h'];
/** Enough keys for the key index to split into several leaves. */
const BIG_KEYS = Array.from({ length: 1500 }, (_, i) => `k${(i * 7919) % 1500}`);

class Gen {
  constructor(
    readonly r: () => number,
    readonly m: Model,
    readonly KEYS: readonly string[],
  ) {}
  int = (n: number) => Math.floor(this.r() * n);
  pick = <T>(xs: readonly T[]): T => xs[this.int(xs.length)]!;
  key = () => Buffer.from(this.pick(this.KEYS), 'latin1');
  end = (): Buffer | undefined => {
    const x = this.int(4);
    return x === 0 ? undefined : x === 1 ? Buffer.from([0]) : Buffer.from(this.pick(this.KEYS), 'latin1');
  };
  value = () => Buffer.from(`v${this.int(5)}`);
  lease = () => (this.int(4) === 0 ? BigInt(this.int(7)) : 0n);
  rev = () => (this.int(3) === 0 ? 0 : Math.max(-1, this.m.rev - this.int(this.m.rev + 3) + 1));

  range(): RangeRequest {
    const r: RangeRequest = { key: this.int(8) === 0 ? Buffer.from([0]) : this.key(), rangeEnd: this.end(), revision: this.rev() };
    if (this.int(3) === 0) r.limit = this.int(4);
    if (this.int(4) === 0) {
      r.sortTarget = this.pick([SortTarget.KEY, SortTarget.VERSION, SortTarget.CREATE, SortTarget.MOD, SortTarget.VALUE]);
      r.sortOrder = this.pick([SortOrder.ASCEND, SortOrder.DESCEND]);
    }
    if (this.int(6) === 0) r.keysOnly = true;
    if (this.int(8) === 0) r.countOnly = true;
    if (this.int(6) === 0) r.minModRevision = this.int(this.m.rev + 1);
    if (this.int(6) === 0) r.maxCreateRevision = this.int(this.m.rev + 1);
    return r;
  }

  put(): RequestOp {
    const ign = this.int(8);
    return {
      requestPut: {
        key: this.key(),
        ...(ign === 0 ? { ignoreValue: true } : { value: this.value() }),
        ...(ign === 1 ? { ignoreLease: true } : { lease: this.lease() }),
        prevKv: this.int(2) === 0,
      },
    };
  }

  compare(): Compare {
    const target = this.int(5);
    return {
      key: this.key(),
      rangeEnd: this.int(3) === 0 ? this.end() : undefined,
      target,
      result: this.int(4),
      value: this.value(),
      version: this.int(4),
      createRevision: this.int(this.m.rev + 2),
      modRevision: this.int(this.m.rev + 2),
      lease: BigInt(this.int(4)),
    };
  }

  ops(depth: number): RequestOp[] {
    const n = this.int(4);
    const out: RequestOp[] = [];
    for (let i = 0; i < n; i++) {
      const x = this.int(depth > 0 ? 5 : 4);
      if (x === 0) out.push({ requestRange: this.range() });
      else if (x === 1 || x === 2) out.push(this.put());
      else if (x === 3) out.push({ requestDeleteRange: { key: this.key(), rangeEnd: this.end(), prevKv: this.int(2) === 0 } });
      else out.push({ requestTxn: this.txn(depth - 1) });
    }
    return out;
  }

  txn(depth: number): TxnRequest {
    const compare = Array.from({ length: this.int(3) }, () => this.compare());
    return { compare, success: this.ops(depth), failure: this.ops(depth) };
  }

  /** A txn etcd's API layer would accept (duplicate keys are refused before Raft). */
  validTxn(): TxnRequest {
    for (;;) {
      const t = this.txn(1);
      try {
        validateTxn(t);
        return t;
      } catch {
        /* try another */
      }
    }
  }
}

/** Runs f on both; the results (or the errors) must be equal. */
function same<T>(where: string, store: () => T, model: () => T): T | undefined {
  let sr: T | undefined;
  let mr: T | undefined;
  let se: unknown;
  let me: unknown;
  try {
    sr = byteValues(store());
  } catch (e) {
    se = e;
  }
  try {
    mr = model();
  } catch (e) {
    me = e;
  }
  if (se && !(se instanceof EtcdError)) throw se;
  expect(se ?? null, `${where}: error`).toBe(me ?? null);
  expect(sr, where).toEqual(mr);
  return sr;
}

async function runSeed(seed: number, steps: number, keySpace: readonly string[] = SMALL_KEYS): Promise<void> {
  const h = new StoreHarness();
  harnesses.push(h);
  let s: MvccStore = await h.open();
  const m = new Model();
  const g = new Gen(rng(seed), m, keySpace);
  const leaseExists = (id: bigint) => id < 5n;
  s.leaseExists = leaseExists;
  m.leaseExists = leaseExists;
  let idx = 0;
  // Everything the live feed reported, to compare with history read back later.
  const fed: Event[] = [];
  const listen = (st: MvccStore) => st.onChange((c) => fed.push(...c.events));
  listen(s);
  if (keySpace.length > 100) {
    // Fill most of a big key space first, so ranges cross leaf boundaries.
    for (const k of keySpace) {
      if (g.int(4) === 0) continue;
      const p = { key: Buffer.from(k, 'latin1'), value: g.value() };
      same('fill', () => s.put(p, ++idx), () => m.put(p));
    }
  }
  const physicals: Promise<void>[] = [];
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`;
    const x = g.int(100);
    if (x < 30) {
      const op = g.put();
      same(where + ' put', () => s.put(op.requestPut!, ++idx), () => m.put(op.requestPut!));
    } else if (x < 40) {
      const d = { key: g.key(), rangeEnd: g.end(), prevKv: g.int(2) === 0 };
      same(where + ' delete', () => s.deleteRange(d, ++idx), () => m.txn({ compare: [], success: [{ requestDeleteRange: d }], failure: [] }).responses[0]!.responseDeleteRange!);
    } else if (x < 60) {
      const t = g.validTxn();
      same(where + ' txn', () => s.txn(t, ++idx), () => m.txn(t));
    } else if (x < 85) {
      const r = g.range();
      same(where + ' range', () => s.range(r), () => m.range(r));
    } else if (x < 88) {
      const rev = g.int(3) === 0 ? m.compactRev : Math.max(1, m.rev - g.int(5));
      const res = same(where + ' compact', () => s.compact(rev, ++idx).revision, () => (m.compact(rev), m.rev));
      if (res !== undefined) physicals.push(s.commit().then(() => undefined));
    } else if (x < 92) {
      await s.commit();
    } else if (x < 94) {
      await s.commit();
      if (g.int(2) === 0) await Promise.all(physicals.splice(0));
      s = await h.reopen();
      listen(s);
      s.leaseExists = leaseExists;
      expect(s.rev, where + ' reopen rev').toBe(m.rev);
      expect(s.compactRev, where + ' reopen compactRev').toBe(m.compactRev);
      expect(s.consistentIndex(), where + ' reopen index').toBe(idx);
    } else if (x < 97) {
      const from = m.compactRev + 1 + g.int(Math.max(1, m.rev - m.compactRev));
      const page = await s.eventsFrom(from, Buffer.from([0]), Buffer.from([0]));
      const got = page.events
        .map((e) => `${e.kv.modRevision}:${e.type === 'DELETE' ? 'D' : 'P'}:${e.kv.key.toString('latin1')}:${e.type === 'DELETE' ? '' : `${e.kv.value.toString('latin1')}:${e.kv.version}:${e.kv.createRevision}:${e.kv.lease}`}`)
        .sort();
      expect(got, where + ` eventsFrom ${from}`).toEqual(m.events(from));
      // History read back equals what the live feed said, in order, prev kvs included.
      const withPrev = await s.eventsFrom(from, Buffer.from([0]), Buffer.from([0]), { prevKv: true });
      expect(byteValues(withPrev.events), where + ' feed vs history').toEqual(byteValues(fed.filter((e) => e.kv.modRevision >= from)));
    } else {
      // A full scan at the current revision and at the compacted one.
      for (const rev of [0, Math.max(m.compactRev, 1)]) {
        const r = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]), revision: rev };
        same(where + ' scan', () => s.range(r), () => m.range(r));
      }
    }
  }
  await s.commit();
  await Promise.all(physicals);
}

const harnesses: StoreHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.dispose();
});

describe('store vs model', () => {
  const base = Number(process.env.MVCC_SEED ?? 1000);
  for (let i = 0; i < 6; i++) {
    it(`seed ${base + i}`, async () => {
      await runSeed(base + i, Number(process.env.MVCC_STEPS ?? 600));
    });
  }
  for (let i = 0; i < 2; i++) {
    it(`seed ${base + 100 + i}, 1,500 keys`, async () => {
      await runSeed(base + 100 + i, Number(process.env.MVCC_STEPS ?? 300), BIG_KEYS);
    });
  }
});
