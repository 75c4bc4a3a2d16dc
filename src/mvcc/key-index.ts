// The in-memory key index: key -> every revision of that key still in the
// backend, plus the live version itself, so current-state reads, compares and
// prev_kv never touch LevelDB. Keys and live values are latin1 strings: one
// char per byte, so JS string order is byte order, Map lookups are cheap, and a
// value costs its bytes plus a 16-byte header on the heap instead of a Buffer,
// an ArrayBuffer and a malloc'd backing store (~330 bytes more per key).

/**
 * One key's history: a list of [main, sub] pairs, oldest first, read by pair
 * offset (0, 2, 4, ...); a tombstone (deletion) stores sub as -(sub+1). A key
 * changes at most once per main revision (txn validation forbids two writes to
 * one key), so main alone identifies a version; sub only orders the backend
 * records. A deletion closes a generation; the next put starts one (version 1).
 */
export class KeyEntry {
  /**
   * The pairs, in the smallest form that holds them: null for none; a number
   * for the commonest history, one live version at sub 0 (a key written once
   * since the last compaction); else a flat array. The array alone cost 64
   * bytes a key (a JSArray and its backing store): 6 MB of heap at 100,000 keys.
   */
  private revs: number | number[] | null = null;
  /** Live value as latin1 (null when the key is deleted or never existed at the head). */
  value: string | null = null;
  createRevision = 0;
  version = 0;
  lease = 0n;

  constructor(readonly key: string) {}

  /** How many numbers the pair list holds (twice the revisions). */
  get revsLength(): number {
    const r = this.revs;
    return r === null ? 0 : typeof r === 'number' ? 2 : r.length;
  }

  /** Main revision of the pair at offset o. */
  mainAt(o: number): number {
    const r = this.revs;
    return typeof r === 'number' ? r : r![o]!;
  }

  /** Encoded sub revision of the pair at offset o (negative for a tombstone). */
  subAt(o: number): number {
    const r = this.revs;
    return typeof r === 'number' ? 0 : r![o + 1]!;
  }

  /**
   * Appends one revision. Most keys have a few versions between compactions,
   * so short lists are reallocated at their exact size instead of growing the
   * V8 way (a push on a full array adds 17 slots, ~136 bytes per key); long
   * ones (a hot key never compacted) grow by pushes, amortized.
   */
  addRev(main: number, encodedSub: number): void {
    const r = this.revs;
    if (r === null) this.revs = encodedSub === 0 ? main : [main, encodedSub];
    else if (typeof r === 'number') this.revs = [r, 0, main, encodedSub];
    else if (r.length < EXACT_REVS) this.revs = r.concat(main, encodedSub);
    else r.push(main, encodedSub);
  }

  /** Keeps the first `length` numbers (a rolled-back txn's revisions go). */
  truncateRevs(length: number): void {
    const r = this.revs;
    if (length >= this.revsLength) return;
    this.revs = length === 0 ? null : compact((r as number[]).slice(0, length));
  }

  /** Drops the first `count` numbers (history that compaction made unreachable). */
  dropRevs(count: number): void {
    if (count <= 0) return;
    const r = this.revs;
    this.revs = count >= this.revsLength ? null : compact((r as number[]).slice(count));
  }

  get modRevision(): number {
    const n = this.revsLength;
    return n ? this.mainAt(n - 2) : 0;
  }

  /** Pair offset of the newest revision with main <= rev, or -1. */
  offsetAt(rev: number): number {
    const r = this.revs;
    if (r === null) return -1;
    if (typeof r === 'number') return r <= rev ? 0 : -1;
    let lo = 0;
    let hi = r.length / 2 - 1;
    if (r[0]! > rev) return -1;
    if (r[hi * 2]! <= rev) return hi * 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (r[mid * 2]! <= rev) lo = mid;
      else hi = mid - 1;
    }
    return lo * 2;
  }

  /** Is the key alive at revision rev (its newest version <= rev is not a tombstone)? */
  liveAt(rev: number): boolean {
    const o = this.offsetAt(rev);
    return o >= 0 && this.subAt(o) >= 0;
  }
}

/** A pair list in its smallest form (see KeyEntry.revs); never empty here. */
function compact(pairs: number[]): number | number[] {
  return pairs.length === 2 && pairs[1] === 0 ? pairs[0]! : pairs;
}

/**
 * A decoded request or record carries a BigInt of its own even for "no lease";
 * the literal is one shared constant, so 100k keys do not keep 100k zeros.
 */
export function shareZeroLease(lease: bigint): bigint {
  return lease === 0n ? 0n : lease;
}

/** Revision lists up to this many numbers are kept at their exact size. */
const EXACT_REVS = 32;

export function isTombstoneSub(encodedSub: number): boolean {
  return encodedSub < 0;
}

export function decodeSub(encodedSub: number): number {
  return encodedSub < 0 ? -encodedSub - 1 : encodedSub;
}

const LEAF_MAX = 512;

/**
 * Sorted set of entries as a list of sorted leaves: O(log n) search and
 * O(sqrt-ish) inserts without a tree's pointer overhead per key. Each leaf
 * also counts its live keys, so Range's `count` at the head revision need
 * not visit every key of a large range (a limit-500 list of a big prefix).
 */
export class KeyIndex {
  private readonly map = new Map<string, KeyEntry>();
  private leaves: KeyEntry[][] = [];
  /** live[i] = entries of leaves[i] whose value is not null. */
  private live: number[] = [];

  get size(): number {
    return this.map.size;
  }

  get(key: string): KeyEntry | undefined {
    return this.map.get(key);
  }

  getOrCreate(key: string): KeyEntry {
    let e = this.map.get(key);
    if (e) return e;
    e = new KeyEntry(key);
    this.map.set(key, e);
    this.insertSorted(e);
    return e;
  }

  /**
   * Bulk load (open/restore): entries go into the map only; rebuildSorted()
   * then sorts once instead of paying a sorted insert per key.
   */
  getOrCreateUnsorted(key: string): KeyEntry {
    let e = this.map.get(key);
    if (!e) {
      e = new KeyEntry(key);
      this.map.set(key, e);
    }
    return e;
  }

  /** Rebuilds leaves and live counts from the map (after getOrCreateUnsorted). */
  rebuildSorted(): void {
    const all = [...this.map.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.leaves = [];
    // Leaves start half full so that later inserts rarely split them at once.
    for (let i = 0; i < all.length; i += LEAF_MAX / 2) this.leaves.push(all.slice(i, i + LEAF_MAX / 2));
    this.recount();
  }

  remove(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    const li = this.leafFor(key);
    const leaf = this.leaves[li]!;
    const i = lowerBound(leaf, key);
    if (leaf[i]?.key === key) {
      leaf.splice(i, 1);
      if (e.value !== null) this.live[li]!--;
    }
    if (leaf.length === 0) {
      this.leaves.splice(li, 1);
      this.live.splice(li, 1);
    }
  }

  clear(): void {
    this.map.clear();
    this.leaves = [];
    this.live = [];
  }

  /** Must be called whenever an entry turns live (+1) or dead (-1). */
  liveChanged(e: KeyEntry, delta: number): void {
    if (this.leaves.length) this.live[this.leafFor(e.key)]! += delta;
  }

  /** Recomputes every leaf's live count (after a bulk load). */
  recount(): void {
    this.live = this.leaves.map(countLive);
  }

  /** Live keys with start <= key < end (end undefined: unbounded). */
  countLive(start: string, end: string | undefined): number {
    let n = 0;
    for (let li = this.leaves.length ? this.leafFor(start) : 0; li < this.leaves.length; li++) {
      const leaf = this.leaves[li]!;
      if (leaf[0]!.key >= start && (end === undefined || leaf[leaf.length - 1]!.key < end)) {
        n += this.live[li]!;
        continue;
      }
      for (const e of leaf) {
        if (end !== undefined && e.key >= end) return n;
        if (e.key >= start && e.value !== null) n++;
      }
    }
    return n;
  }

  /**
   * Visit entries with start <= key < end in key order (end undefined: no
   * upper bound). Stops when fn returns false.
   */
  forEachInRange(start: string, end: string | undefined, fn: (e: KeyEntry) => boolean | void): void {
    if (this.leaves.length === 0) return;
    let li = this.leafFor(start);
    let i = lowerBound(this.leaves[li]!, start);
    for (; li < this.leaves.length; li++, i = 0) {
      const leaf = this.leaves[li]!;
      for (; i < leaf.length; i++) {
        const e = leaf[i]!;
        if (end !== undefined && e.key >= end) return;
        if (fn(e) === false) return;
      }
    }
  }

  /** All entries in key order (snapshot of the current set). */
  *entries(): IterableIterator<KeyEntry> {
    for (const leaf of this.leaves.slice()) yield* leaf.slice();
  }

  /** Index of the leaf that holds (or would hold) key. */
  private leafFor(key: string): number {
    const L = this.leaves;
    let lo = 0;
    let hi = L.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (L[mid]![0]!.key <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private insertSorted(e: KeyEntry): void {
    // New entries are not live yet (value null): counts change only on split.
    if (this.leaves.length === 0) {
      this.leaves.push([e]);
      this.live.push(0);
      return;
    }
    const li = this.leafFor(e.key);
    const leaf = this.leaves[li]!;
    leaf.splice(lowerBound(leaf, e.key), 0, e);
    if (leaf.length > LEAF_MAX) {
      // Both halves as fresh arrays: cut in place, the left half would keep the
      // full leaf's grown backing store, half of it empty for good when keys
      // arrive in order (a sequential load).
      const left = leaf.slice(0, LEAF_MAX / 2);
      const right = leaf.slice(LEAF_MAX / 2);
      this.leaves.splice(li, 1, left, right);
      this.live.splice(li, 1, countLive(left), countLive(right));
    }
  }
}

function countLive(leaf: KeyEntry[]): number {
  let n = 0;
  for (const e of leaf) if (e.value !== null) n++;
  return n;
}

function lowerBound(leaf: KeyEntry[], key: string): number {
  let lo = 0;
  let hi = leaf.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (leaf[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
