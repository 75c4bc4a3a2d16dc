// Raft's durable storage: entries, hard state, snapshot metadata and the
// server's membership blob in a LevelDB sublevel. One save() = one LevelDB
// batch; saves issued while a write is in flight are merged into the next
// batch in call order (group commit), so one fsync covers many Readies.

import type { Logger } from 'pino';
import { makeBatchWriter, type BatchOp, type BatchWriter } from '../storage/batch-writer';
import type { Entry, HardState, SnapshotMetadata } from '../raft/types';
import {
  ENTRY_RANGE,
  KEY_HARD_STATE,
  KEY_MEMBERSHIP,
  KEY_META,
  KEY_SNAPSHOT,
  WalError,
  type WalMeta,
  decodeBlob,
  decodeEntry,
  decodeHardState,
  decodeMeta,
  decodeSnapshotMeta,
  encodeBlob,
  encodeEntry,
  encodeHardState,
  encodeMeta,
  encodeSnapshotMeta,
  entryIndexOfKey,
  entryKey,
} from './codec';

export type WalOp = BatchOp;

/**
 * The slice of the abstract-level API the WAL needs. A classic-level sublevel
 * opened with `{ keyEncoding: 'buffer', valueEncoding: 'buffer' }` fits.
 */
export interface WalDb {
  batch(operations: WalOp[], options: { sync?: boolean }): Promise<void>;
  get(key: Buffer): Promise<Buffer | undefined>;
  iterator(options: { gte?: Buffer; lt?: Buffer; reverse?: boolean; limit?: number }): AsyncIterable<[Buffer, Buffer]>;
  clear(options: { gte: Buffer; lt: Buffer }): Promise<void>;
}

export interface SaveRequest {
  hardState?: HardState;
  entries: Entry[];
  /**
   * A snapshot received from the leader (Ready.snapshot): the log is replaced by
   * it, so every persisted entry is discarded. Only its metadata is stored; the
   * state-machine image belongs to the MVCC store.
   */
  snapshot?: { metadata: SnapshotMetadata };
  membership?: Uint8Array;
  /** fsync the batch (Ready.mustSync). Defaults to true. */
  mustSync?: boolean;
}

export interface WalState {
  hardState: HardState;
  snapshot?: SnapshotMetadata;
  /** Contiguous entries with index > snapshot index (or from 1 with no snapshot). */
  entries: Entry[];
  membership?: Uint8Array;
}

export interface WalStats {
  /** LevelDB batches written, and how many save()/compact() calls they carried. */
  batches: number;
  calls: number;
}

interface Pending {
  ops: WalOp[];
  sync: boolean;
  waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

export class Wal {
  readonly meta: WalMeta;
  readonly stats: WalStats = { batches: 0, calls: 0 };
  // The log as it will be once every queued write lands: truncation and
  // compaction are computed against this, at call time, so order is kept.
  private firstIndex = 0; // 0 = no entry persisted
  private lastIndex = 0;
  private snapshotIndex = 0;
  private pending: Pending | null = null;
  private writing = false;
  private idleWaiters: Array<() => void> = [];
  private failed: Error | null = null;
  /** Range deletes of compacted entries, one after another. */
  private compacting: Promise<void> = Promise.resolve();
  private readonly write: BatchWriter;

  private constructor(
    private readonly db: WalDb,
    meta: WalMeta,
    private readonly log?: Logger,
  ) {
    this.meta = meta;
    this.write = makeBatchWriter(db);
  }

  /** True if the sublevel holds anything at all (a member that has run before). */
  static async exists(db: WalDb): Promise<boolean> {
    for await (const _ of db.iterator({ limit: 1 })) return true;
    return false;
  }

  /** Claims an empty directory for one member of one cluster; fails if it holds anything. */
  static async bootstrap(db: WalDb, meta: WalMeta, log?: Logger): Promise<Wal> {
    if (!meta.memberId || !meta.clusterId) throw new WalError('wal: bootstrap needs a member id and a cluster id');
    if (await Wal.exists(db)) throw new WalError('wal: cannot bootstrap, the data directory already holds a WAL');
    await db.batch([{ type: 'put', key: KEY_META, value: encodeMeta(meta) }], { sync: true });
    return new Wal(db, meta, log);
  }

  /**
   * Opens an existing WAL. Throws a WalError if the metadata is missing or
   * corrupt, or names another member or cluster than the expected ones: the
   * server must refuse to start rather than join with someone else's log.
   */
  static async open(db: WalDb, expect: { memberId?: string; clusterId?: string } = {}, log?: Logger): Promise<Wal> {
    const raw = await db.get(KEY_META);
    if (raw === undefined) {
      const what = (await Wal.exists(db)) ? 'holds WAL records but no metadata (corrupt)' : 'has no WAL (not bootstrapped)';
      throw new WalError(`wal: data directory ${what}`);
    }
    const meta = decodeMeta(raw);
    if (expect.memberId !== undefined && expect.memberId !== meta.memberId) {
      throw new WalError(`wal: data directory belongs to member ${meta.memberId}, not ${expect.memberId}`);
    }
    if (expect.clusterId !== undefined && expect.clusterId !== meta.clusterId) {
      throw new WalError(`wal: data directory belongs to cluster ${meta.clusterId}, not ${expect.clusterId}`);
    }
    const wal = new Wal(db, meta, log);
    await wal.readBounds();
    return wal;
  }

  private async readBounds(): Promise<void> {
    const snap = await this.db.get(KEY_SNAPSHOT);
    this.snapshotIndex = snap === undefined ? 0 : decodeSnapshotMeta(snap).index;
    for await (const [k] of this.db.iterator({ ...ENTRY_RANGE, limit: 1 })) this.firstIndex = entryIndexOfKey(k);
    for await (const [k] of this.db.iterator({ ...ENTRY_RANGE, reverse: true, limit: 1 })) this.lastIndex = entryIndexOfKey(k);
  }

  /**
   * Reads everything Raft needs to restart, checking that the log has no gap
   * and that the hard state does not point past it.
   */
  async load(): Promise<WalState> {
    await this.flush();
    const [hsRaw, snapRaw, memRaw] = await Promise.all([this.db.get(KEY_HARD_STATE), this.db.get(KEY_SNAPSHOT), this.db.get(KEY_MEMBERSHIP)]);
    const hardState = hsRaw === undefined ? { ...EMPTY_HARD_STATE } : decodeHardState(hsRaw);
    const snapshot = snapRaw === undefined ? undefined : decodeSnapshotMeta(snapRaw);
    const snapIndex = snapshot?.index ?? 0;

    const entries: Entry[] = [];
    let first = 0;
    let prev: Entry | undefined;
    for await (const [k, v] of this.db.iterator(ENTRY_RANGE)) {
      const e = decodeEntry(entryIndexOfKey(k), v);
      if (prev === undefined) {
        first = e.index;
        // Compaction keeps the entry at the snapshot index, a restore keeps none:
        // either way the log must reach back to just after the snapshot.
        if (first > snapIndex + 1) throw new WalError(`wal: log starts at ${first} but the snapshot ends at ${snapIndex} (missing entries)`);
      } else {
        if (e.index !== prev.index + 1) throw new WalError(`wal: gap in the log between index ${prev.index} and ${e.index}`);
        if (e.term < prev.term) throw new WalError(`wal: term goes backwards at index ${e.index} (${prev.term} -> ${e.term})`);
      }
      if (snapshot && e.index === snapIndex && e.term !== snapshot.term) {
        throw new WalError(`wal: entry ${e.index} has term ${e.term} but the snapshot says ${snapshot.term}`);
      }
      if (e.index > snapIndex) entries.push(e);
      prev = e;
    }
    const last = prev?.index ?? 0;
    if (hardState.commit > Math.max(last, snapIndex)) {
      throw new WalError(`wal: commit index ${hardState.commit} is beyond the last persisted entry ${Math.max(last, snapIndex)}`);
    }
    this.firstIndex = first;
    this.lastIndex = last;
    this.snapshotIndex = snapIndex;
    const state: WalState = { hardState, entries };
    if (snapshot) state.snapshot = snapshot;
    if (memRaw !== undefined) state.membership = decodeBlob(memRaw);
    return state;
  }

  /**
   * Persists one Ready. Appending entry i discards every persisted entry >= i
   * (etcd's WAL semantics): entries in the new range are overwritten and any
   * older tail beyond the new last index is deleted in the same batch.
   * Resolves once the batch is written (and fsynced when mustSync).
   */
  save(req: SaveRequest): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const ops: WalOp[] = [];
    try {
      if (req.snapshot) this.restoreOps(req.snapshot.metadata, ops);
      if (req.entries.length > 0) this.appendOps(req.entries, ops);
    } catch (err) {
      return Promise.reject(err);
    }
    if (req.hardState) ops.push({ type: 'put', key: KEY_HARD_STATE, value: encodeHardState(req.hardState) });
    if (req.membership) ops.push({ type: 'put', key: KEY_MEMBERSHIP, value: encodeBlob(req.membership) });
    if (ops.length === 0) return this.flush();
    return this.enqueue(ops, req.mustSync ?? true);
  }

  private restoreOps(meta: SnapshotMetadata, ops: WalOp[]): void {
    if (meta.index < this.snapshotIndex) {
      throw new WalError(`wal: snapshot at ${meta.index} is older than the persisted one at ${this.snapshotIndex}`);
    }
    ops.push({ type: 'put', key: KEY_SNAPSHOT, value: encodeSnapshotMeta(meta) });
    for (let i = this.firstIndex; i > 0 && i <= this.lastIndex; i++) ops.push({ type: 'del', key: entryKey(i) });
    this.firstIndex = 0;
    this.lastIndex = 0;
    this.snapshotIndex = meta.index;
  }

  private appendOps(entries: Entry[], ops: WalOp[]): void {
    const first = entries[0]!.index;
    const last = entries[entries.length - 1]!.index;
    if (last - first + 1 !== entries.length) throw new WalError(`wal: entries to save are not contiguous (${first}..${last}, ${entries.length} entries)`);
    if (first <= this.snapshotIndex) throw new WalError(`wal: entry ${first} is covered by the snapshot at ${this.snapshotIndex}`);
    const expectedNext = this.lastIndex === 0 ? this.snapshotIndex + 1 : this.lastIndex + 1;
    if (first > expectedNext) throw new WalError(`wal: appending at ${first} would leave a gap after ${expectedNext - 1}`);
    for (const e of entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
    for (let i = last + 1; i <= this.lastIndex; i++) ops.push({ type: 'del', key: entryKey(i) });
    if (this.firstIndex === 0 || first < this.firstIndex) this.firstIndex = first;
    this.lastIndex = last;
  }

  /**
   * Records a snapshot this member made itself (entries are kept; compact()
   * trims them separately, usually to an older index for slow followers).
   */
  saveSnapshot(meta: SnapshotMetadata): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (meta.index <= this.snapshotIndex) return this.flush();
    this.snapshotIndex = meta.index;
    return this.enqueue([{ type: 'put', key: KEY_SNAPSHOT, value: encodeSnapshotMeta(meta) }], true);
  }

  /** Stores the server's membership blob (member names and URLs). */
  saveMembership(blob: Uint8Array, sync = true): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return this.enqueue([{ type: 'put', key: KEY_MEMBERSHIP, value: encodeBlob(blob) }], sync);
  }

  /**
   * Deletes entries below `index`. The entry at `index` stays so that its term
   * (Raft's term(firstIndex-1)) remains known; `index` may not pass the
   * persisted snapshot, whose image is what replaces the deleted entries.
   */
  compact(index: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (index > this.snapshotIndex) {
      return Promise.reject(new WalError(`wal: cannot compact to ${index}, beyond the snapshot at ${this.snapshotIndex}`));
    }
    const end = Math.min(index, this.lastIndex + 1);
    if (this.firstIndex === 0 || this.firstIndex >= end) return this.flush();
    const range = { gte: entryKey(this.firstIndex), lt: entryKey(end) };
    this.firstIndex = end > this.lastIndex ? 0 : end;
    if (this.firstIndex === 0) this.lastIndex = 0;
    // A range delete, which LevelDB walks in native code. A batch of one delete
    // per entry built ~95,000 key Buffers (twice, with the sublevel prefix) at
    // every --snapshot-count, and the members' live heap jumped by 25-35 MB.
    // These entries are below the snapshot, never rewritten and written long
    // ago, so no queued write can touch them. Not synced: losing a compaction
    // in a crash only leaves extra entries (a crash partway leaves the newest
    // of them, still contiguous with the rest of the log).
    const cleared = this.compacting.then(() => this.db.clear(range));
    this.compacting = cleared.catch(() => undefined);
    return cleared.then(() => this.flush());
  }

  /** First and last persisted entry index (0, 0 when the log is empty), as of the last call. */
  bounds(): { firstIndex: number; lastIndex: number; snapshotIndex: number } {
    return { firstIndex: this.firstIndex, lastIndex: this.lastIndex, snapshotIndex: this.snapshotIndex };
  }

  /** Resolves when every write issued so far has landed; rejects if the WAL failed. */
  flush(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (!this.writing && !this.pending) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.idleWaiters.push(() => (this.failed ? reject(this.failed) : resolve()));
    });
  }

  private enqueue(ops: WalOp[], sync: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = (this.pending ??= { ops: [], sync: false, waiters: [] });
      for (const op of ops) p.ops.push(op);
      p.sync ||= sync;
      p.waiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  // One writer at a time: while a batch is in flight, later calls pile into
  // `pending` and go out together as the next batch.
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pending) {
      const batch = this.pending;
      this.pending = null;
      try {
        await this.write(batch.ops, batch.sync);
        this.stats.batches++;
        this.stats.calls += batch.waiters.length;
        for (const w of batch.waiters) w.resolve();
      } catch (err) {
        // A failed write leaves the log in an unknown state: the node must stop
        // (etcd treats WAL errors as fatal), so every later call fails too.
        this.failed = new WalError(`wal: write failed: ${(err as Error).message}`);
        this.log?.error({ err, memberId: this.meta.memberId }, 'wal write failed');
        for (const w of batch.waiters) w.reject(this.failed);
        const rest = this.pending as Pending | null;
        this.pending = null;
        for (const w of rest?.waiters ?? []) w.reject(this.failed);
      }
    }
    this.writing = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
