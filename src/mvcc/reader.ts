// Reads: the key index answers which keys exist at a revision; the value
// comes from the entry itself when it is the head version, else from the
// backend record of that version (a synchronous LevelDB get or memory).
// Mirrors etcd's rangeKeys plus the sort/filter/limit rules of apply.go Range.

import { Errors } from '../errors';
import type { Backend } from './backend';
import { decodeRecord } from './codec';
import { decodeSub, type KeyEntry, type KeyIndex } from './key-index';
import { type KeyValue, type RangeRequest, type RangeResponse, SortOrder, SortTarget } from './types';

/** What a read needs to know about the store at one moment. */
export interface ReadView {
  index: KeyIndex;
  backend: Backend;
  /** Revision that reads without an explicit revision see (and the header revision). */
  rev: number;
  compactRev: number;
}

/** [start, end) as latin1 strings; end undefined = unbounded; null = empty range. */
export interface KeyRange {
  start: string;
  end: string | undefined;
  single: boolean;
}

/** etcd's conventions: no end = one key; "\0" = all keys >= key; end <= key = nothing. */
export function toKeyRange(key: Buffer, rangeEnd?: Buffer): KeyRange | null {
  const start = key.toString('latin1');
  if (!rangeEnd || rangeEnd.length === 0) return { start, end: start + '\0', single: true };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: undefined, single: false };
  const end = rangeEnd.toString('latin1');
  if (end <= start) return null;
  return { start, end, single: false };
}

export function kvOfEntry(e: KeyEntry): KeyValue {
  return {
    key: e.key,
    createRevision: e.createRevision,
    modRevision: e.modRevision,
    version: e.version,
    value: e.value!,
    lease: e.lease,
  };
}

/** The version of e visible at rev, or undefined if the key is absent then. */
export function kvAt(view: ReadView, e: KeyEntry, rev: number): KeyValue | undefined {
  const o = e.offsetAt(rev);
  if (o < 0) return undefined;
  const sub = e.subAt(o);
  if (sub < 0) return undefined;
  if (o === e.revsLength - 2 && e.value !== null) return kvOfEntry(e);
  const main = e.mainAt(o);
  const raw = view.backend.getRecord(main, decodeSub(sub));
  if (!raw) throw new Error(`mvcc: missing backend record for revision ${main}_${sub}`);
  const r = decodeRecord(raw);
  return {
    key: e.key,
    createRevision: r.createRevision,
    modRevision: main,
    version: r.version,
    value: r.value,
    lease: r.lease,
  };
}

/** Resolves the requested revision as etcd: <= 0 current, future and compacted refused. */
export function checkReadRev(view: ReadView, requested: number | undefined): number {
  const r = requested ?? 0;
  if (r > view.rev) throw Errors.FutureRev;
  const rev = r <= 0 ? view.rev : r;
  if (rev < view.compactRev) throw Errors.Compacted;
  return rev;
}

/** Live entries of a range at rev, in key order, at most `limit` (0 = all); plus the full count. */
function collect(view: ReadView, kr: KeyRange, rev: number, limit: number, countOnly: boolean) {
  const entries: KeyEntry[] = [];
  if (kr.single) {
    const e = view.index.get(kr.start);
    const live = e !== undefined && (rev >= view.rev ? e.value !== null : e.liveAt(rev));
    if (live && !countOnly) entries.push(e);
    return { entries, count: live ? 1 : 0 };
  }
  if (rev >= view.rev) {
    // Head read: the index keeps live counts, so stop visiting at the limit.
    if (!countOnly) {
      view.index.forEachInRange(kr.start, kr.end, (e) => {
        if (e.value !== null) entries.push(e);
        return limit <= 0 || entries.length < limit;
      });
    }
    const count = limit <= 0 && !countOnly ? entries.length : view.index.countLive(kr.start, kr.end);
    return { entries, count };
  }
  let count = 0;
  view.index.forEachInRange(kr.start, kr.end, (e) => {
    if (!e.liveAt(rev)) return;
    count++;
    if (!countOnly && (limit <= 0 || entries.length < limit)) entries.push(e);
  });
  return { entries, count };
}

export function range(view: ReadView, r: RangeRequest): RangeResponse {
  const rev = checkReadRev(view, r.revision);
  const kr = toKeyRange(r.key, r.rangeEnd);
  if (!kr) return { revision: view.rev, kvs: [], more: false, count: 0 };

  const limit = r.limit ?? 0;
  const order = r.sortOrder ?? SortOrder.NONE;
  const target = r.sortTarget ?? SortTarget.KEY;
  const filtered = !!(r.minModRevision || r.maxModRevision || r.minCreateRevision || r.maxCreateRevision);
  // etcd fetches everything when it must sort or filter (judged on the
  // *requested* order), else limit+1 to learn `more`.
  let fetch = order !== SortOrder.NONE || filtered ? 0 : limit;
  if (fetch > 0) fetch++;

  const { entries, count } = collect(view, kr, rev, fetch, !!r.countOnly);
  if (r.countOnly) return { revision: view.rev, kvs: [], more: false, count };

  let kvs: KeyValue[] = [];
  for (const e of entries) kvs.push(kvAt(view, e, rev)!);
  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        !(r.maxModRevision && kv.modRevision > r.maxModRevision) &&
        !(r.minModRevision && kv.modRevision < r.minModRevision) &&
        !(r.maxCreateRevision && kv.createRevision > r.maxCreateRevision) &&
        !(r.minCreateRevision && kv.createRevision < r.minCreateRevision),
    );
  }
  // A non-KEY target with order NONE sorts ascending (etcd apply.go).
  const effOrder = target !== SortTarget.KEY && order === SortOrder.NONE ? SortOrder.ASCEND : order;
  if (effOrder !== SortOrder.NONE) sortKvs(kvs, target, effOrder === SortOrder.DESCEND);

  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs.length = limit;
    more = true;
  }
  if (r.keysOnly) for (const kv of kvs) kv.value = EMPTY;
  return { revision: view.rev, kvs, more, count };
}

const EMPTY = Buffer.alloc(0);

function sortKvs(kvs: KeyValue[], target: SortTarget, desc: boolean): void {
  let cmp: (a: KeyValue, b: KeyValue) => number;
  switch (target) {
    case SortTarget.VERSION:
      cmp = (a, b) => a.version - b.version;
      break;
    case SortTarget.CREATE:
      cmp = (a, b) => a.createRevision - b.createRevision;
      break;
    case SortTarget.MOD:
      cmp = (a, b) => a.modRevision - b.modRevision;
      break;
    case SortTarget.VALUE:
      cmp = (a, b) => compareBytes(a.value, b.value);
      break;
    default:
      cmp = (a, b) => compareBytes(a.key, b.key);
  }
  // Stable sort; ties keep key order in both directions (deterministic across members).
  kvs.sort(desc ? (a, b) => cmp(b, a) : cmp);
}

/** Byte order of two byte strings; latin1 strings compare char by char, which is byte order. */
function compareBytes(a: Buffer | string, b: Buffer | string): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(latin1Bytes(a), latin1Bytes(b));
}

/** Bytes held as a Buffer or as a latin1 string (KeyValue.key and .value), as a Buffer. */
export function latin1Bytes(b: Buffer | string): Buffer {
  return typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
}
