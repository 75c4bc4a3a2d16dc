// Opening the store: rebuilding the in-memory key index (and the side records
// kept beside the versions) from what LevelDB holds. Runs at open and after a
// snapshot restore, so it is written for a million versions: chunked reads, a
// bulk sort, and only each key's newest record decoded.
import type { Backend, MvccDb } from './backend';
import { decodeRecord, recordKeyString, revKeyMain, revKeySub } from './codec';
import { shareZeroLease, type KeyEntry, type KeyIndex } from './key-index';
import { AUX_LOWER, AUX_UPPER, auxName } from './aux';

/** Records per LevelDB round trip when rebuilding the index (fewer trips, faster open). */
const LOAD_CHUNK = 10_000;

/** The side records (e.g. leases) stored beside the versions, by name. */
export async function readAuxRecords(db: MvccDb): Promise<Array<[string, Buffer]>> {
  const out: Array<[string, Buffer]> = [];
  const it = db.iterator({ gte: AUX_LOWER, lt: AUX_UPPER });
  try {
    for (let chunk = await it.nextv(1000); chunk.length > 0; chunk = await it.nextv(1000)) {
      for (const [k, v] of chunk) out.push([auxName(k), v]);
    }
  } finally {
    await it.close();
  }
  return out;
}

/**
 * Fills `index` from every version on disk. Returns the highest revision seen
 * (at least `rev`, the persisted one) and the bytes read.
 */
export async function rebuildKeyIndex(index: KeyIndex, backend: Backend, rev: number): Promise<{ rev: number; size: number }> {
  let size = 0;
  // Only the newest version of a key needs decoding: its raw record waits here.
  const newest = new Map<KeyEntry, Uint8Array>();
  const it = backend.diskIterator();
  try {
    for (;;) {
      const chunk = await it.nextv(LOAD_CHUNK);
      if (chunk.length === 0) break;
      for (const [k, v] of chunk) {
        const main = revKeyMain(k);
        const sub = revKeySub(k);
        const e = index.getOrCreateUnsorted(recordKeyString(v));
        size += k.length + v.length;
        if (main > rev) rev = main;
        if (v[0] === 1) {
          e.addRev(main, -sub - 1);
          newest.delete(e);
        } else {
          e.addRev(main, sub);
          newest.set(e, v);
        }
      }
    }
  } finally {
    await it.close();
  }
  for (const [e, raw] of newest) {
    const r = decodeRecord(raw);
    e.value = r.value.toString('latin1');
    e.createRevision = r.createRevision;
    e.version = r.version;
    e.lease = shareZeroLease(r.lease);
  }
  // Liveness is set (a value or null), so the leaves' live counts are right.
  index.rebuildSorted();
  return { rev, size };
}
