// Compaction. Applying Compact(C) only moves the compacted revision (O(1) on
// the apply path); this pass then walks the backend records <= C in chunks,
// deletes every version no reader may ask for any more and trims the key
// index to match, yielding to the event loop between chunks.

import type { Backend } from './backend';
import { recordKeyString, revKey, revKeyMain, revKeySub, revLowerBound } from './codec';
import type { KeyEntry, KeyIndex } from './key-index';

const CHUNK = 1000;

/**
 * Must the version (main, sub) of entry survive compaction at C? Yes if it is
 * newer than C, or if it is the key's newest version <= C and not a
 * tombstone (sub is the index encoding: negative for tombstones) (reads at C still need it). Works on trimmed and untrimmed entries.
 */
export function isKept(e: KeyEntry | undefined, main: number, sub: number, C: number): boolean {
  if (main > C) return true;
  if (!e) return false;
  const o = e.offsetAt(C);
  return sub >= 0 && o >= 0 && e.mainAt(o) === main && e.subAt(o) === sub;
}

/** Drops the history of e that compaction at C made unreachable; removes e if nothing is left. */
export function trimEntry(index: KeyIndex, e: KeyEntry, C: number): void {
  const o = e.offsetAt(C);
  if (o < 0) return;
  const cut = e.subAt(o) < 0 ? o + 2 : o;
  if (cut === 0) return;
  e.dropRevs(cut);
  if (e.revsLength === 0) index.remove(e.key);
}

export interface CompactTarget {
  index: KeyIndex;
  backend: Backend;
  /** Called with the bytes of deleted records (db size estimate). */
  onDeleted(bytes: number): void;
  closed(): boolean;
}

/** One physical pass for revision C. Resolves when the records are deleted. */
export async function physicalCompact(t: CompactTarget, C: number): Promise<void> {
  await t.backend.flushed();
  const it = t.backend.db.iterator({ gte: revLowerBound(0), lt: revKey(C + 1, 0) });
  try {
    for (;;) {
      if (t.closed()) return;
      const chunk = await it.nextv(CHUNK);
      if (chunk.length === 0) break;
      // Judge by C only: a newer compaction may not be durable yet, and its
      // own pass will follow.
      const cur = C;
      const dels: Buffer[] = [];
      let bytes = 0;
      for (const [k, v] of chunk) {
        const main = revKeyMain(k);
        const sub = revKeySub(k);
        const e = t.index.get(recordKeyString(v));
        const enc = v[0] === 1 ? -sub - 1 : sub;
        if (!isKept(e, main, enc, cur)) {
          dels.push(k);
          bytes += k.length + v.length;
        }
        if (e) trimEntry(t.index, e, cur);
      }
      if (dels.length) await t.backend.deleteKeys(dels);
      t.onDeleted(bytes);
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    await it.close();
  }
}
