// The tail of the log that is not yet on stable storage: entries (and maybe an incoming
// snapshot) the driver has still to persist. Entries live in one array with a head
// pointer, so persisting a prefix is O(1) and does not reallocate on every Ready.

import { Entry, Snapshot } from './types';

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  /** Live entries are ents[head..]; ents[head] has index `offset`. */
  private ents: Entry[] = [];
  private head = 0;
  /** Index of the first unstable entry; offset-1 is the last index known to be persisted. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  get length(): number {
    return this.ents.length - this.head;
  }

  /** The index of the first entry if there is an unstable snapshot. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.length > 0) return this.offset + this.length - 1;
    if (this.snapshot) return this.snapshot.metadata.index;
    return undefined;
  }

  /** Term of entry i if the unstable part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.ents[this.head + i - this.offset]!.term;
  }

  /** Marks entries up to i (of term t) as persisted. A stale i/t (the entry was replaced meanwhile) is ignored. */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || i < this.offset || gt !== t) return;
    this.head += i + 1 - this.offset;
    this.offset = i + 1;
    this.shrink();
  }

  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.ents = [];
    this.head = 0;
    this.snapshot = s;
  }

  /** Appends, truncating any unstable suffix that the new entries replace. */
  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0]!.index;
    const end = this.offset + this.length;
    if (after === end) {
      // The common case: a plain append.
    } else if (after <= this.offset) {
      // Replaces every unstable entry; the persisted entries from `after` on are
      // superseded too, so the persisted prefix shrinks.
      this.offset = after;
      this.ents = [];
      this.head = 0;
    } else {
      // Keep [offset, after) and drop the rest.
      this.ents.length = this.head + (after - this.offset);
    }
    for (let k = 0; k < ents.length; k++) this.ents.push(ents[k]!);
  }

  /** Entries in [lo, hi), which must lie within the unstable part. Shares Entry objects. */
  slice(lo: number, hi: number): Entry[] {
    if (lo > hi || lo < this.offset || hi > this.offset + this.length) {
      throw new Error(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${this.offset + this.length}]`);
    }
    return this.ents.slice(this.head + lo - this.offset, this.head + hi - this.offset);
  }

  all(): Entry[] {
    return this.ents.slice(this.head);
  }

  // Drop the persisted prefix from the backing array once it dominates, so memory stays
  // proportional to what is really unstable without copying on every stableTo.
  private shrink(): void {
    if (this.head === this.ents.length) {
      this.ents = [];
      this.head = 0;
    } else if (this.head > 256 && this.head * 2 > this.ents.length) {
      this.ents = this.ents.slice(this.head);
      this.head = 0;
    }
  }
}
