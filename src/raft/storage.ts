// The read side of stable storage that the Raft core consults, and MemoryStorage, an
// in-memory implementation. The server keeps a MemoryStorage as a mirror of its WAL
// (rebuilt at boot), so Raft never waits on disk to read its own log.

import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from './errors';
import { ConfState, Entry, EntryType, HardState, Snapshot } from './types';
import { EMPTY_BYTES, emptyHardState, emptySnapshot, limitSize } from './util';

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/**
 * What Raft reads from stable storage. Any error other than the ones documented
 * makes the node inoperable: Raft throws it up to the driver.
 */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), total size capped by maxSize but at least one entry. Throws ErrCompacted / ErrUnavailable. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** Term of entry i, valid for firstIndex()-1 .. lastIndex(). Throws ErrCompacted / ErrUnavailable. */
  term(i: number): number;
  lastIndex(): number;
  firstIndex(): number;
  /** The most recent snapshot; may throw ErrSnapshotTemporarilyUnavailable. */
  snapshot(): Snapshot;
}

export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  // ents[0] is a dummy standing for the snapshot point (its index and term), so the term
  // of the entry just before the first kept one is always answerable.
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }];

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  hardStateNow(): HardState {
    return { ...this.hardState };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new ErrCompacted();
    if (hi > this.lastIndex() + 1) throw new ErrUnavailable();
    if (this.ents.length === 1) throw new ErrUnavailable();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new ErrCompacted();
    if (i - offset >= this.ents.length) throw new ErrUnavailable();
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole content with a received snapshot. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new ErrSnapOutOfDate();
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: EMPTY_BYTES }];
  }

  /**
   * Records a snapshot of the state machine at applied index i (the caller then
   * usually compacts). Throws ErrSnapOutOfDate when i is not newer than the current one.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new ErrSnapOutOfDate();
    const offset = this.ents[0]!.index;
    if (i > this.lastIndex()) throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = {
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cs ?? this.snap.metadata.confState,
      },
      data,
    };
    return this.snap;
  }

  /** Discards entries up to and including compactIndex; the caller must not compact past applied. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new ErrCompacted();
    if (compactIndex > this.lastIndex()) throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const first = this.ents[i]!;
    const rest = this.ents.slice(i + 1);
    rest.unshift({ term: first.term, index: first.index, type: EntryType.Normal, data: EMPTY_BYTES });
    this.ents = rest;
  }

  /**
   * Appends entries, which must be contiguous. Entries at or below the first index are
   * ignored; an entry that overwrites an existing index truncates everything after it
   * (the leader's log wins a conflict).
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    let ents = entries;
    if (first > entries[0]!.index) ents = entries.slice(first - entries[0]!.index);
    const offset = ents[0]!.index - this.ents[0]!.index;
    if (offset > this.ents.length) {
      throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${ents[0]!.index}]`);
    }
    if (offset < this.ents.length) this.ents.length = offset;
    for (let k = 0; k < ents.length; k++) this.ents.push(ents[k]!);
  }
}
