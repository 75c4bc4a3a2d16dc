// The one writer of a LevelDB database (a member has two: its WAL's and its
// store's). Every LevelDB write call costs ~45 µs of CPU beyond its puts (a
// promise, a hand-off to the libuv pool and back, LevelDB's writer queue),
// measured on sequential unsynced one-put writes: 62 µs per call against ~5 µs
// per extra put. Here every write of every sublevel goes through one FIFO
// queue: while a batch is in flight the next ones pile up and leave together,
// and a "lazy" write (the store's unsynced batch, which the WAL can replay)
// waits for the next eager write of the same database, or LAZY_MS at most,
// instead of costing a call of its own. With the WAL in a database of its own,
// that makes the store's batches one LevelDB call per LAZY_MS.
// One queue also keeps every batch in the order it was handed over.

import { mark, tracing } from '../trace';
import { nativeBatchFactory, type WriteBatchLike } from './native-batch';

/** A put or delete with the sublevel's prefix already on the key. */
export type RootOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface RootDb {
  /** abstract-level's chained batch on the root database. */
  batch(): WriteBatchLike;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Batch {
  ops: RootOp[];
  sync: boolean;
  waiters: Waiter[];
}

/** How long a lazy write may wait for an eager one to share a LevelDB write with. */
export const LAZY_MS = 10;

export class RootWriter {
  private pending: Batch | null = null;
  /** Whether the pending batch holds anything that must not wait. */
  private urgent = false;
  private writing = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  /** LevelDB write calls made, and the write() calls they carried (tests, stats). */
  readonly stats = { batches: 0, calls: 0 };
  /** Called after every LevelDB write that landed, with its operations (LogPreallocator.afterWrite). */
  onWritten: ((ops: readonly RootOp[]) => void) | undefined;

  /** How each write's batch is made: natively where the database allows (see native-batch.ts). */
  private readonly newBatch: () => WriteBatchLike;
  /** Whether writes skip abstract-level's chained batch (tests). */
  readonly native: boolean;

  constructor(db: RootDb) {
    const native = nativeBatchFactory(db);
    this.native = native !== undefined;
    this.newBatch = native ?? (() => db.batch());
  }

  write(ops: RootOp[], sync: boolean, lazy = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = (this.pending ??= { ops: [], sync: false, waiters: [] });
      for (const op of ops) p.ops.push(op);
      p.sync ||= sync;
      p.waiters.push({ resolve, reject });
      if (!lazy || sync) this.urgent = true;
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing || this.pending === null) return;
    if (this.urgent) {
      void this.drain();
    } else if (this.lazyTimer === undefined) {
      // Not cleared when a write carries the lazy batch first: at one client's
      // pace (a put every ~1.5 ms) that was a setTimeout and a clearTimeout per
      // put on every member. Left running, it fires once per LAZY_MS at most,
      // and a lazy batch queued while it runs waits less than LAZY_MS, never more.
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = undefined;
        if (this.pending === null) return;
        this.urgent = true;
        this.kick();
      }, LAZY_MS);
    }
  }

  // One LevelDB write at a time: everything handed over meanwhile goes out as
  // the next batch. A failed write fails its callers; the WAL and the store
  // treat that as fatal for the member.
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pending !== null && this.urgent) {
      const batch = this.pending;
      this.pending = null;
      this.urgent = false;
      try {
        const b = this.newBatch();
        for (const op of batch.ops) {
          if (op.type === 'put') b.put(op.key, op.value);
          else b.del(op.key);
        }
        if (tracing) mark(`write ${batch.sync ? 'sync' : 'nosync'} ${batch.ops.length}`);
        await b.write({ sync: batch.sync });
        if (tracing) mark('written');
        this.stats.batches++;
        this.stats.calls += batch.waiters.length;
        for (const w of batch.waiters) w.resolve();
        this.onWritten?.(batch.ops);
      } catch (err) {
        for (const w of batch.waiters) w.reject(err as Error);
      }
    }
    this.writing = false;
    this.kick();
  }
}
