// The LevelDB side of the store: records written by applies wait in memory
// until commit() writes them, with the meta keys, in one batch. Until that
// batch is on disk they stay readable from memory, so readers never care
// whether a version is durable yet. Batches are chained so they land in order.

import { makeBatchWriter, type BatchOp, type BatchTarget, type BatchWriter } from '../storage/batch-writer';
import {
  REV_UPPER,
  revKey,
  revKeyMain,
  revKeySub,
  revLowerBound,
} from './codec';


interface DbIterator {
  nextv(size: number): Promise<Array<[Buffer, Buffer]>>;
  close(): Promise<void>;
}

/**
 * What the store needs from a database: a classic-level `Level` or a sublevel
 * of one, opened with buffer keys and values.
 */
export interface MvccDb {
  getSync(key: Buffer): Buffer | undefined;
  get(key: Buffer): Promise<Buffer | undefined>;
  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void>;
  iterator(options: { gte?: Buffer; lt?: Buffer; keys?: boolean; values?: boolean }): DbIterator;
  clear(options: { gte?: Buffer; lt?: Buffer }): Promise<void>;
}

/** A version applied but possibly not on disk yet. */
export interface MemRecord {
  main: number;
  sub: number;
  raw: Buffer;
}

/** One version as scans yield it: revision plus the encoded record (codec.ts). */
export type ScannedRecord = MemRecord;

const SCAN_CHUNK = 1000;

export class Backend {
  /** Applied but not handed to LevelDB yet, in revision order. */
  private pending: MemRecord[] = [];
  /** Handed to LevelDB, write not confirmed yet; oldest first. */
  private inflight: MemRecord[][] = [];
  /** main revision -> records of that revision still only in memory. */
  private byMain = new Map<number, MemRecord | MemRecord[]>();
  /** value null = delete the key (aux records such as leases are removed in the apply batch). */
  private meta = new Map<string, { key: Buffer; value: Buffer | null }>();
  private chain: Promise<void> = Promise.resolve();
  /** Estimated bytes of all records (memory and disk): the db size for Status. */
  size = 0;

  private readonly write: BatchWriter;

  constructor(readonly db: MvccDb) {
    this.write = makeBatchWriter(db as MvccDb & BatchTarget);
  }

  add(main: number, sub: number, raw: Buffer): void {
    const r: MemRecord = { main, sub, raw };
    this.size += raw.length + 17;
    this.pending.push(r);
    const cur = this.byMain.get(main);
    if (cur === undefined) this.byMain.set(main, r);
    else if (Array.isArray(cur)) cur.push(r);
    else this.byMain.set(main, [cur, r]);
  }

  /** Drops records of an aborted txn (always the newest ones). */
  dropFrom(main: number): void {
    while (this.pending.length && this.pending[this.pending.length - 1]!.main >= main) {
      const r = this.pending.pop()!;
      this.byMain.delete(r.main);
      this.size -= r.raw.length + 17;
    }
  }

  setMeta(key: Buffer, value: Buffer | null): void {
    this.meta.set(key.toString('latin1'), { key, value });
  }

  get dirty(): boolean {
    return this.pending.length > 0 || this.meta.size > 0;
  }

  /** Synchronous read of one version, from memory or LevelDB. */
  getRecord(main: number, sub: number): Buffer | undefined {
    const m = this.byMain.get(main);
    if (m !== undefined) {
      if (!Array.isArray(m)) {
        if (m.sub === sub) return m.raw;
      } else {
        for (const r of m) if (r.sub === sub) return r.raw;
      }
    }
    return this.db.getSync(revKey(main, sub));
  }

  /**
   * Writes everything pending plus the meta keys in one batch. Returns when
   * that batch (and every earlier one) is written.
   */
  commit(sync: boolean): Promise<void> {
    if (!this.dirty) return this.chain;
    const recs = this.pending;
    this.pending = [];
    const ops: BatchOp[] = new Array(recs.length);
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      ops[i] = { type: 'put', key: revKey(r.main, r.sub), value: r.raw };
    }
    for (const m of this.meta.values()) ops.push(m.value ? { type: 'put', key: m.key, value: m.value } : { type: 'del', key: m.key });
    this.meta.clear();
    this.inflight.push(recs);
    // An unsynced batch is lazy: the WAL can replay it, so it waits a few ms to
    // share one LevelDB write with the batches after it. Handed over at once,
    // not behind the previous batch's write: the writer keeps them in order, and
    // waiting for each write before handing over the next allowed one commit
    // per lazy wait, which left the store's batches piling up in memory (peak
    // RSS 0.8-1 GB in a full bench run) once it had a database of its own.
    const written = this.write(ops, sync, !sync);
    written.catch(() => undefined); // its failure reaches callers through the chain
    this.chain = this.chain.then(() => written).then(() => {
      this.inflight.shift();
      for (const r of recs) this.byMain.delete(r.main);
    });
    return this.chain;
  }

  /** Resolves when every batch handed out so far is written. */
  flushed(): Promise<void> {
    return this.chain;
  }

  /**
   * Records with fromMain <= main <= toMain in revision order: LevelDB's
   * part (read from a snapshot taken now) followed by the in-memory part.
   * Everything is captured synchronously, so concurrent commits and
   * compactions do not disturb the scan.
   */
  scan(fromMain: number, toMain: number): AsyncIterable<ScannedRecord> {
    const mem: MemRecord[] = [];
    for (const batch of this.inflight) for (const r of batch) if (r.main >= fromMain && r.main <= toMain) mem.push(r);
    for (const r of this.pending) if (r.main >= fromMain && r.main <= toMain) mem.push(r);
    const firstMem = this.firstMemMain();
    const upper = Math.min(toMain + 1, firstMem);
    const it = upper > fromMain ? this.db.iterator({ gte: revLowerBound(fromMain), lt: revKey(upper, 0) }) : null;
    return {
      [Symbol.asyncIterator]: async function* () {
        if (it) {
          try {
            for (;;) {
              const chunk = await it.nextv(SCAN_CHUNK);
              if (chunk.length === 0) break;
              for (const [k, v] of chunk) yield { main: revKeyMain(k), sub: revKeySub(k), raw: v };
            }
          } finally {
            await it.close();
          }
        }
        yield* mem;
      },
    };
  }

  private firstMemMain(): number {
    for (const b of this.inflight) if (b.length) return b[0]!.main;
    return this.pending[0]?.main ?? Infinity;
  }

  /** Raw iterator over all revision records on disk (open/reload). */
  diskIterator(): DbIterator {
    return this.db.iterator({ gte: revLowerBound(0), lt: REV_UPPER });
  }

  /** Deletes the given revision keys in one batch, queued behind pending commits. */
  deleteKeys(keys: Buffer[]): Promise<void> {
    const ops: BatchOp[] = keys.map((key) => ({ type: 'del', key }));
    this.chain = this.chain.then(() => this.db.batch(ops));
    return this.chain;
  }

  /** Writes one meta key now (queued behind earlier batches), outside any apply batch. */
  writeMeta(key: Buffer, value: Buffer): Promise<void> {
    this.chain = this.chain.then(() => this.db.batch([{ type: 'put', key, value }]));
    return this.chain;
  }

  /** Forget all in-memory state (restore). Callers wait for flushed() first. */
  reset(): void {
    this.pending = [];
    this.inflight = [];
    this.byMain.clear();
    this.meta.clear();
    this.size = 0;
  }
}
