// The MVCC store: etcd's revisioned key-value state machine. The server
// applies committed requests in order with applyWrite (synchronous, answered
// from memory, deterministic), then calls commit() once per Raft Ready to
// write the changes and the consistent index in one LevelDB batch. It knows
// nothing of Raft beyond that index.

import { Errors } from '../errors';
import { applyDeleteRange, applyPut, applyTxn, type LeaseExists } from './apply';
import { Backend, type MvccDb, type ScannedRecord } from './backend';
import {
  META_COMPACT,
  META_COMPACT_DONE,
  META_CONSISTENT_INDEX,
  META_REV,
  decodeNumber,
  encodeNumber,
} from './codec';
import { physicalCompact } from './compactor';
import { eventsFrom, type EventsFromOptions, type EventsPage } from './feed';
import { hashKV } from './hash';
import { KeyIndex } from './key-index';
import { range, type ReadView } from './reader';
import { snapshotChunks, snapshotWrites } from './snapshot';
import type {
  ChangeBatch,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVResult,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WriteRequest,
  WriteResponse,
} from './types';
import { WriteTxn } from './writer';
import { auxKey } from './aux';
import { readAuxRecords, rebuildKeyIndex } from './load';

export interface MvccStoreOptions {
  /** Lease lookup for Put with a lease; absent = every lease exists (until the lessor is wired in). */
  leaseExists?: LeaseExists;
  /** fsync each commit. Off by default: the Raft WAL already holds what a crash could lose. */
  sync?: boolean;
}

export type ChangeListener = (batch: ChangeBatch) => void;

interface CompactWaiter {
  rev: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class MvccStore {
  private readonly index = new KeyIndex();
  private readonly backend: Backend;
  private currentRev = 1;
  private persistedRev = -1;
  private compactRevision = -1;
  private compactDone = -1;
  /** A compaction applied since the last commit: its physical pass starts once that commit is durable. */
  private compactToPersist: number | null = null;
  private compactChain: Promise<void> = Promise.resolve();
  private compactWaiters: CompactWaiter[] = [];
  private ci = 0;
  private readonly listeners = new Set<ChangeListener>();
  private readonly restoreListeners = new Set<() => void>();
  /** Aux records (see aux.ts), mirrored in memory. */
  private readonly aux = new Map<string, Buffer>();
  private stopped = false;
  private pauseCompaction = false;
  leaseExists: LeaseExists | undefined;
  private readonly sync: boolean;

  private constructor(db: MvccDb, opts: MvccStoreOptions) {
    this.backend = new Backend(db);
    this.leaseExists = opts.leaseExists;
    this.sync = opts.sync ?? false;
  }

  /** Opens the store on a Level database or sublevel with buffer keys and values. */
  static async open(db: MvccDb, opts: MvccStoreOptions = {}): Promise<MvccStore> {
    const s = new MvccStore(db, opts);
    await s.load();
    return s;
  }

  /** The current revision (the store starts at 1). */
  get rev(): number {
    return this.currentRev;
  }

  /** The compacted revision (-1 before any compaction, as etcd). */
  get compactRev(): number {
    return this.compactRevision;
  }

  /** Index of the last Raft entry applied (durable once commit() resolved). */
  consistentIndex(): number {
    return this.ci;
  }

  /** Estimated backend bytes (Status dbSize / dbSizeInUse). */
  dbSize(): number {
    return this.backend.size;
  }

  /** Number of keys in the index (live or with history). */
  get keyCount(): number {
    return this.index.size;
  }

  // ---- apply path -------------------------------------------------------

  /**
   * Applies one committed request. The answer comes from memory at once;
   * reads see the new state immediately. An EtcdError thrown here means the
   * request changed nothing (but the entry still counts as applied).
   */
  applyWrite(req: WriteRequest, raftIndex = 0): WriteResponse {
    if (this.stopped) throw Errors.Stopped;
    if (raftIndex > 0 && raftIndex <= this.ci) {
      throw new Error(`mvcc: raft entry ${raftIndex} already applied (consistent index ${this.ci})`);
    }
    try {
      if ('compaction' in req) return { compaction: this.applyCompact(req.compaction.revision) };
      const tx = new WriteTxn(this.index, this.backend, this.currentRev, this.compactRevision);
      let resp: WriteResponse;
      try {
        if ('put' in req) resp = { put: applyPut(tx, req.put, this.leaseExists) };
        else if ('deleteRange' in req) resp = { deleteRange: applyDeleteRange(tx, req.deleteRange) };
        else resp = { txn: applyTxn(tx, req.txn, this.leaseExists) };
      } catch (e) {
        tx.rollback();
        throw e;
      }
      if (tx.changed) {
        this.currentRev++;
        if (this.listeners.size) this.emit({ revision: this.currentRev, events: tx.events() });
      }
      return resp;
    } finally {
      this.setConsistentIndex(raftIndex);
    }
  }

  put(req: PutRequest, raftIndex = 0): PutResponse {
    return (this.applyWrite({ put: req }, raftIndex) as { put: PutResponse }).put;
  }

  deleteRange(req: DeleteRangeRequest, raftIndex = 0): DeleteRangeResponse {
    return (this.applyWrite({ deleteRange: req }, raftIndex) as { deleteRange: DeleteRangeResponse }).deleteRange;
  }

  txn(req: TxnRequest, raftIndex = 0): TxnResponse {
    return (this.applyWrite({ txn: req }, raftIndex) as { txn: TxnResponse }).txn;
  }

  compact(revision: number, raftIndex = 0): CompactionResponse {
    return (this.applyWrite({ compaction: { revision } }, raftIndex) as { compaction: CompactionResponse })
      .compaction;
  }

  /** Records an applied Raft entry that was not an MVCC write (lease, conf change, no-op). */
  setConsistentIndex(raftIndex: number): void {
    if (raftIndex <= this.ci) return;
    this.ci = raftIndex;
    this.backend.setMeta(META_CONSISTENT_INDEX, encodeNumber(raftIndex));
  }

  /**
   * Writes everything applied since the last commit in one batch. Pass
   * sync: true before the server compacts its Raft log up to the consistent
   * index (as etcd forces a backend commit before a snapshot): after that the
   * log can no longer replay what a machine crash would lose.
   */
  async commit(opts: { sync?: boolean } = {}): Promise<void> {
    if (this.persistedRev !== this.currentRev) {
      this.backend.setMeta(META_REV, encodeNumber(this.currentRev));
      this.persistedRev = this.currentRev;
    }
    // A sync commit must reach the disk even with nothing new: LevelDB's
    // sync write also flushes the earlier unsynced batches from its log.
    if (opts.sync) this.backend.setMeta(META_CONSISTENT_INDEX, encodeNumber(this.ci));
    const compaction = this.compactToPersist;
    this.compactToPersist = null;
    await this.backend.commit(opts.sync ?? this.sync);
    if (compaction !== null) this.schedulePhysical(compaction);
  }

  // ---- reads ------------------------------------------------------------

  /** A Range at the current state (or a past revision), synchronously. */
  range(req: RangeRequest): RangeResponse {
    return range(this.view(), req);
  }

  /** A txn without writes, served on the read path (nothing is proposed or changed). */
  readTxn(req: TxnRequest): TxnResponse {
    const tx = new WriteTxn(this.index, this.backend, this.currentRev, this.compactRevision);
    try {
      const resp = applyTxn(tx, req, this.leaseExists);
      if (tx.changed) throw new Error('mvcc: readTxn given a txn with writes');
      return resp;
    } finally {
      tx.rollback();
    }
  }

  /** Past events from startRev (>= the compacted revision), for watchers catching up. */
  eventsFrom(startRev: number, key: Buffer, rangeEnd?: Buffer, opts?: EventsFromOptions): Promise<EventsPage> {
    return eventsFrom(this.view(), startRev, key, rangeEnd, opts);
  }

  /** Live feed: every applied write's events, in revision order. Returns an unsubscribe function. */
  onChange(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  hashKV(revision = 0): Promise<HashKVResult> {
    return hashKV(this.view(), revision);
  }

  /** Sets (or with null deletes) an aux record; written with the next commit, beside the consistent index. */
  putAux(name: string, value: Buffer | null): void {
    if (value) this.aux.set(name, value);
    else this.aux.delete(name);
    this.backend.setMeta(auxKey(name), value);
  }

  /** Aux records whose name starts with prefix. */
  auxEntries(prefix: string): Array<[string, Buffer]> {
    return [...this.aux].filter(([n]) => n.startsWith(prefix));
  }

  /** Called after restore() replaced the state (aux records included). */
  onRestore(fn: () => void): () => void {
    this.restoreListeners.add(fn);
    return () => this.restoreListeners.delete(fn);
  }

  /** Live keys that carry a lease, for the lessor to rebuild its attachments on start. */
  forEachLeasedKey(fn: (key: Buffer, lease: bigint) => void): void {
    for (const e of this.index.entries()) {
      if (e.value !== null && e.lease !== 0n) fn(Buffer.from(e.key, 'latin1'), e.lease);
    }
  }

  // ---- snapshots --------------------------------------------------------

  /**
   * Every stored version in revision order, with the revisions and index they
   * are consistent with, as of this call (for the Maintenance snapshot).
   */
  versions(): { records: AsyncIterable<ScannedRecord>; rev: number; compactRev: number; consistentIndex: number } {
    return { records: this.backend.scan(0, this.currentRev), rev: this.currentRev, compactRev: this.compactRevision, consistentIndex: this.ci };
  }

  /** The whole state as ~1 MiB chunks, consistent as of this call. */
  snapshot(): AsyncIterable<Buffer> {
    const meta = { rev: this.currentRev, compactRev: this.compactRevision, consistentIndex: this.ci };
    return snapshotChunks(this.backend.scan(0, this.currentRev), meta, [...this.aux]);
  }

  /**
   * Replaces the whole state with a snapshot. No applies may run meanwhile.
   * consistentIndex overrides the one recorded in the snapshot (the Raft
   * snapshot's index). Live listeners are not told: watchers must resync.
   */
  async restore(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, consistentIndex?: number): Promise<void> {
    this.pauseCompaction = true;
    this.compactToPersist = null; // the state it belonged to is being replaced
    await this.backend.flushed();
    await this.compactChain;
    this.backend.reset();
    const { meta, ops } = await snapshotWrites(this.backend.db, chunks);
    ops.push(
      { type: 'put', key: META_CONSISTENT_INDEX, value: encodeNumber(consistentIndex ?? meta.consistentIndex) },
      { type: 'put', key: META_REV, value: encodeNumber(meta.rev) },
      { type: 'put', key: META_COMPACT, value: encodeNumber(meta.compactRev) },
      { type: 'put', key: META_COMPACT_DONE, value: encodeNumber(-1) },
    );
    // One batch, so a crash leaves the old state or the new one (snapshotWrites).
    // Synced: the server records the snapshot in its WAL (a database of its
    // own) next, and drops the log that could rebuild this state.
    await this.backend.db.batch(ops, { sync: true });
    this.pauseCompaction = false;
    await this.load();
    for (const fn of this.restoreListeners) fn();
  }

  /** Waits for pending writes and stops compaction. The caller closes the database. */
  async close(): Promise<void> {
    if (this.stopped) return;
    await this.commit();
    this.stopped = true;
    await this.backend.flushed();
    await this.compactChain;
    for (const w of this.compactWaiters.splice(0)) w.reject(Errors.Stopped);
  }

  // ---- internals --------------------------------------------------------

  private view(): ReadView {
    return { index: this.index, backend: this.backend, rev: this.currentRev, compactRev: this.compactRevision };
  }

  private emit(batch: ChangeBatch): void {
    for (const fn of this.listeners) {
      try {
        fn(batch);
      } catch (e) {
        // A broken listener must not break the apply path.
        process.emitWarning(`mvcc change listener threw: ${String(e)}`);
      }
    }
  }

  private applyCompact(rev: number): CompactionResponse {
    if (rev <= this.compactRevision) throw Errors.Compacted;
    if (rev > this.currentRev) throw Errors.FutureRev;
    this.compactRevision = rev;
    this.backend.setMeta(META_COMPACT, encodeNumber(rev));
    this.compactToPersist = rev;
    const physical = new Promise<void>((resolve, reject) => this.compactWaiters.push({ rev, resolve, reject }));
    physical.catch(() => undefined); // nobody may await it
    return { revision: this.currentRev, physical };
  }

  private schedulePhysical(C: number): void {
    this.compactChain = this.compactChain.then(async () => {
      if (C > this.compactDone && !this.stopped && !this.pauseCompaction) {
        await physicalCompact(
          {
            index: this.index,
            backend: this.backend,
            onDeleted: (bytes) => (this.backend.size -= bytes),
            closed: () => this.stopped || this.pauseCompaction,
          },
          C,
        );
        if (this.stopped || this.pauseCompaction) return;
        this.compactDone = C;
        await this.backend.writeMeta(META_COMPACT_DONE, encodeNumber(C));
      }
      const ready = this.compactWaiters.filter((w) => w.rev <= this.compactDone);
      this.compactWaiters = this.compactWaiters.filter((w) => w.rev > this.compactDone);
      for (const w of ready) w.resolve();
    });
    this.compactChain.catch(() => undefined);
  }

  /** Rebuilds the key index and meta from the backend (open and restore). */
  private async load(): Promise<void> {
    const db = this.backend.db;
    this.index.clear();
    this.ci = decodeNumber(await db.get(META_CONSISTENT_INDEX), 0);
    this.compactRevision = decodeNumber(await db.get(META_COMPACT), -1);
    this.compactDone = decodeNumber(await db.get(META_COMPACT_DONE), -1);
    this.aux.clear();
    for (const [name, value] of await readAuxRecords(db)) this.aux.set(name, value);
    const { rev, size } = await rebuildKeyIndex(this.index, this.backend, decodeNumber(await db.get(META_REV), 1));
    this.backend.size = size;
    this.currentRev = rev;
    this.persistedRev = rev;
    // A crash (or a restore) may have left condemned versions behind.
    if (this.compactDone < this.compactRevision) this.schedulePhysical(this.compactRevision);
  }
}
