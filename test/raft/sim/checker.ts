// Safety invariants checked by the simulation after every step, against the whole
// history of the run: election safety, log matching, leader completeness, state
// machine safety and linearizable ReadIndex answers.

import { Entry, NodeId } from '../../../src/raft/types';

export class InvariantError extends Error {}

const dec = new TextDecoder();

export function entryKey(e: Entry): string {
  return `${e.term}:${e.type}:${dec.decode(e.data)}`;
}

/** A rolling digest of a state machine's applied entries. */
export function nextDigest(d: number, e: Entry): number {
  const s = entryKey(e);
  let h = d ^ e.index;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h >>> 0;
}

export class Checker {
  /** term -> the only member that ever led it. */
  private leaderOf = new Map<number, NodeId>();
  /** `${index}:${term}` -> the previous entry's term and this entry's content, as first persisted anywhere. */
  private logEntries = new Map<string, { prevTerm: number; key: string }>();
  /** index -> entry key applied first (committed entries). */
  readonly committed = new Map<number, string>();
  readonly committedTerm = new Map<number, number>();
  /** index -> state machine digest after applying it. */
  private digests = new Map<number, number>();
  /** Highest index applied anywhere: everything up to it may have been acknowledged. */
  maxApplied = 0;
  /** read ctx -> maxApplied when the read was issued. */
  private reads = new Map<string, number>();
  readsAnswered = 0;
  proposalsCommitted = 0;

  /** Terms that had a leader. */
  get leaderTerms(): number {
    return this.leaderOf.size;
  }

  /** A digest of everything committed, to show that a replay is exact. */
  fingerprint(): number {
    let h = 2166136261;
    for (const i of [...this.committed.keys()].sort((a, b) => a - b)) {
      const s = `${i}=${this.committed.get(i)!};`;
      for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 16777619) >>> 0;
    }
    return h;
  }

  fail(msg: string): never {
    throw new InvariantError(msg);
  }

  /** Election safety: at most one leader per term, across the whole run. */
  sawLeader(id: NodeId, term: number): boolean {
    const prev = this.leaderOf.get(term);
    if (prev === undefined) {
      this.leaderOf.set(term, id);
      return true;
    }
    if (prev !== id) this.fail(`election safety: term ${term} has leaders ${prev} and ${id}`);
    return false;
  }

  /**
   * Log matching, checked inductively on every persisted entry: an (index, term) pair
   * always carries the same command and follows the same term at index-1.
   */
  sawPersisted(id: NodeId, e: Entry, prevTerm: number): void {
    const k = `${e.index}:${e.term}`;
    const key = entryKey(e);
    const prev = this.logEntries.get(k);
    if (prev === undefined) {
      this.logEntries.set(k, { prevTerm, key });
      return;
    }
    if (prev.key !== key) this.fail(`log matching: ${id} persisted ${k} as ${key}, seen before as ${prev.key}`);
    // prevTerm < 0: the previous entry was compacted away there, nothing to compare.
    if (prev.prevTerm >= 0 && prevTerm >= 0 && prev.prevTerm !== prevTerm) {
      this.fail(`log matching: ${id} persisted ${k} after term ${prevTerm}, seen before after term ${prev.prevTerm}`);
    }
    if (prev.prevTerm < 0) prev.prevTerm = prevTerm;
  }

  /** State machine safety: the same entry applied at each index everywhere. */
  sawApplied(id: NodeId, e: Entry, digest: number): void {
    const key = entryKey(e);
    const prev = this.committed.get(e.index);
    if (prev === undefined) {
      this.committed.set(e.index, key);
      this.committedTerm.set(e.index, e.term);
      this.digests.set(e.index, digest);
      if (e.data.length > 0 && e.type === 0) this.proposalsCommitted++;
    } else {
      if (prev !== key) this.fail(`state machine safety: ${id} applied ${key} at ${e.index}, others applied ${prev}`);
      if (this.digests.get(e.index) !== digest) this.fail(`state machine safety: ${id} digest differs at ${e.index}`);
    }
    if (e.index > this.maxApplied) this.maxApplied = e.index;
  }

  sawSnapshotRestore(id: NodeId, index: number, digest: number): void {
    const d = this.digests.get(index);
    if (d !== undefined && d !== digest) this.fail(`state machine safety: ${id} restored snapshot at ${index} with a different state`);
  }

  /** Leader completeness: a new leader holds every entry known to be committed. */
  checkLeaderLog(id: NodeId, term: number, termAt: (i: number) => number, firstIndex: number): void {
    for (const [i, t] of this.committedTerm) {
      if (i < firstIndex) continue;
      const lt = termAt(i);
      if (lt !== t) this.fail(`leader completeness: leader ${id} of term ${term} has term ${lt} at committed index ${i} (committed term ${t})`);
    }
  }

  readIssued(ctx: string): void {
    this.reads.set(ctx, this.maxApplied);
  }

  /** Linearizable reads: the read index covers everything applied before the read began. */
  readAnswered(id: NodeId, ctx: string, index: number): void {
    const bound = this.reads.get(ctx);
    if (bound === undefined) return;
    this.readsAnswered++;
    if (index < bound) this.fail(`linearizable read: ${id} answered read ${ctx} at index ${index}, but ${bound} was already applied when it was issued`);
  }
}
