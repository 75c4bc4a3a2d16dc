// Opening the store: rebuilding the in-memory key index (and the side records
// kept beside the versions) from what LevelDB holds. Runs at open and after a
// snapshot restore, so it is written for a million versions: chunked reads, a
// bulk sort, and only each key's newest record decoded.
import type { Backend, MvccDb } from './backend';
import { decodeRecord, recordKeyString, revKeyMain, revKeySub } from './codec';
import type { KeyIndex } from './key-index';
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
        // Only the newest version of a key needs decoding: park its raw
        // record in `value` (marked by createRevision -1) and decode once at the end.
        if (v[0] === 1) {
          e.addRev(main, -sub - 1);
          e.value = null;
          e.createRevision = 0;
        } else {
          e.addRev(main, sub);
          e.value = v;
          e.createRevision = -1;
        }
      }
    }
  } finally {
    await it.close();
  }
  // Liveness is already right (parked raw record vs null), so counts are too.
  index.rebuildSorted();
  for (const e of index.entries()) {
    if (e.createRevision !== -1) {
      e.version = 0;
      e.lease = 0n;
      continue;
    }
    const r = decodeRecord(e.value!);
    e.value = r.value;
    e.createRevision = r.createRevision;
    e.version = r.version;
    e.lease = r.lease;
  }
  return { rev, size };
}
