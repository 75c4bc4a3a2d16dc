// The Raft log as the core sees it: stable entries read through Storage, followed by
// the unstable tail not yet persisted, plus the commit, applying and applied indexes.

import { ErrCompacted } from './errors';
import { Storage } from './storage';
import { Entry, Snapshot } from './types';
import { Unstable } from './unstable';
import { limitSize } from './util';

/** termAt() results for indexes outside the log. */
export const TERM_COMPACTED = -1;
export const TERM_UNAVAILABLE = -2;

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be committed on a quorum. */
  committed: number;
  /** Highest index the driver has applied (reported through advance). */
  applied: number;
  /** Highest index handed out for applying in a Ready (>= applied). */
  applying: number;
  private readonly maxApplyingSize: number;

  constructor(storage: Storage, maxApplyingSize: number) {
    this.storage = storage;
    this.maxApplyingSize = maxApplyingSize;
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i, or TERM_COMPACTED / TERM_UNAVAILABLE; never throws for range errors. */
  termAt(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy) return TERM_COMPACTED;
    if (i > this.lastIndex()) return TERM_UNAVAILABLE;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof ErrCompacted) return TERM_COMPACTED;
      throw e;
    }
  }

  /** Term of i, or 0 when i is outside the log (convenient for up-to-date comparisons). */
  termOr0(i: number): number {
    const t = this.termAt(i);
    return t < 0 ? 0 : t;
  }

  lastTerm(): number {
    return this.termOr0(this.lastIndex());
  }

  matchTerm(i: number, t: number): boolean {
    return this.termAt(i) === t;
  }

  /** Raft's election restriction: is a log ending at (lasti, term) at least as up to date as ours? */
  isUpToDate(lasti: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && lasti >= this.lastIndex());
  }

  /**
   * The follower side of AppendEntries: if our log has (index, logTerm), append ents,
   * truncating only at a real conflict (a stale or duplicated message must not cut
   * acknowledged entries), and commit up to what this message verified. Returns the
   * last index covered by the message, or -1 when the consistency check fails.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new Error(`entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      }
      const start = ci - (index + 1);
      this.append(start === 0 ? ents : ents.slice(start));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw new Error(`after(${after}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** First index whose term differs from ours (or which we lack); 0 if all match. */
  findConflict(ents: Entry[]): number {
    for (let k = 0; k < ents.length; k++) {
      const e = ents[k]!;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= index whose term is <= term: the leader can skip every entry
   * above it in one probe instead of one index per round trip.
   */
  findConflictByTerm(index: number, term: number): number {
    if (index > this.lastIndex()) return index;
    for (; index > 0; index--) {
      const t = this.termAt(index);
      if (t < 0) return index;
      if (t <= term) return index;
    }
    return 0;
  }

  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termAt(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  commitTo(tocommit: number): void {
    if (this.committed >= tocommit) return;
    if (this.lastIndex() < tocommit) {
      throw new Error(`tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]`);
    }
    this.committed = tocommit;
  }

  appliedTo(i: number): void {
    if (i === 0 || i <= this.applied) return;
    if (this.committed < i) throw new Error(`applied(${i}) is out of range [committed(${this.committed})]`);
    this.applied = i;
    if (this.applying < i) this.applying = i;
  }

  /** Last index known durable locally; nothing beyond it may be applied or counted as our ack. */
  persistedIndex(): number {
    return this.unstable.snapshot ? 0 : this.unstable.offset - 1;
  }

  private nextCommittedRange(): [number, number] {
    const lo = Math.max(this.applying + 1, this.firstIndex());
    const hi = Math.min(this.committed, this.persistedIndex());
    return [lo, hi];
  }

  hasNextCommittedEnts(): boolean {
    const [lo, hi] = this.nextCommittedRange();
    return hi >= lo;
  }

  /** Committed entries that are also durable locally and not yet handed out. */
  nextCommittedEnts(): Entry[] {
    const [lo, hi] = this.nextCommittedRange();
    if (hi < lo) return [];
    return this.slice(lo, hi + 1, this.maxApplyingSize);
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries from i to the end, up to maxSize; throws ErrCompacted if i was compacted. */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  slice(lo: number, hi: number, maxSize: number): Entry[] {
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`);
    if (lo < this.firstIndex()) throw new ErrCompacted();
    if (hi > this.lastIndex() + 1) throw new Error(`slice[${lo},${hi}) out of bound [${this.firstIndex()},${this.lastIndex()}]`);
    if (lo === hi) return [];
    const off = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < off) {
      const stored = this.storage.entries(lo, Math.min(hi, off), maxSize);
      // Storage already cut at maxSize: nothing from the unstable part can follow.
      if (stored.length < Math.min(hi, off) - lo) return stored;
      ents = stored;
    }
    if (hi > off) {
      const u = this.unstable.slice(Math.max(lo, off), hi);
      // concat, not push: the stored array may belong to the Storage implementation.
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxSize);
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }
}
