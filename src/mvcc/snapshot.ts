// The store as a stream of frames for Raft snapshots: a header (revision,
// compacted revision, consistent index) and then every backend record in
// revision order. Frames are length-prefixed so the receiver may re-chunk
// the bytes any way it likes. Records condemned by compaction but not yet
// physically removed may be included; the receiver's own pass drops them.

import type { MvccDb, ScannedRecord } from './backend';
import type { BatchOp } from '../storage/batch-writer';
import { REV_PREFIX, REV_UPPER, revKey } from './codec';
import { AUX_LOWER, AUX_UPPER, auxFrame, auxKey, isAuxFrame, parseAuxFrame } from './aux';

const MAGIC = Buffer.from('ETSMVCC1', 'latin1');
const CHUNK_BYTES = 1 << 20;

export interface SnapshotMeta {
  rev: number;
  compactRev: number;
  consistentIndex: number;
}

function frame(payload: Buffer): Buffer {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(payload.length, 0);
  return Buffer.concat([len, payload]);
}

/** Header and record scan are captured synchronously by the caller; chunks come out ~1 MiB each. */
export async function* snapshotChunks(
  scan: AsyncIterable<ScannedRecord>,
  meta: SnapshotMeta,
  aux: Array<[string, Buffer]> = [],
): AsyncGenerator<Buffer> {
  const head = Buffer.allocUnsafe(MAGIC.length + 24);
  MAGIC.copy(head, 0);
  head.writeDoubleBE(meta.rev, 8);
  head.writeDoubleBE(meta.compactRev, 16);
  head.writeDoubleBE(meta.consistentIndex, 24);
  let parts: Buffer[] = [frame(head)];
  let size = parts[0]!.length;
  for (const [name, value] of aux) parts.push(frame(auxFrame(name, value)));
  for await (const r of scan) {
    const f = frame(Buffer.concat([revKey(r.main, r.sub), r.raw]));
    parts.push(f);
    size += f.length;
    if (size >= CHUNK_BYTES) {
      yield Buffer.concat(parts);
      parts = [];
      size = 0;
    }
  }
  if (parts.length) yield Buffer.concat(parts);
}

/** How many keys a scan of the current records reads at a time. */
const SCAN_KEYS = 1000;

/**
 * The writes that replace the store's records (revisions and aux records) with
 * the snapshot's, and the snapshot's header. MvccStore.restore writes them in
 * one LevelDB batch with the meta keys. A batch lands whole or not at all, so
 * a member killed while installing a snapshot reopens with its old state
 * intact (its Raft log replays on top of it) or with all of the new one. It
 * never reopens with its old consistent index over a half-replaced store,
 * which its log would then replay onto. The records point into `chunks`, which
 * stay pinned until that write; the image is in memory whole anyway.
 */
export async function snapshotWrites(
  db: MvccDb,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<{ meta: SnapshotMeta; ops: BatchOp[] }> {
  const ops: BatchOp[] = [];
  // Every record there now goes; a put of the same key later in the batch wins.
  for (const [gte, lt] of [[Buffer.from([REV_PREFIX]), REV_UPPER], [AUX_LOWER, AUX_UPPER]] as const) {
    const it = db.iterator({ gte, lt, keys: true, values: false });
    try {
      for (let chunk = await it.nextv(SCAN_KEYS); chunk.length > 0; chunk = await it.nextv(SCAN_KEYS)) {
        for (const [key] of chunk) ops.push({ type: 'del', key });
      }
    } finally {
      await it.close();
    }
  }
  let meta: SnapshotMeta | undefined;
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      const payload = buf.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      if (!meta) {
        if (!payload.subarray(0, 8).equals(MAGIC)) throw new Error('mvcc: not an MVCC snapshot');
        meta = {
          rev: payload.readDoubleBE(8),
          compactRev: payload.readDoubleBE(16),
          consistentIndex: payload.readDoubleBE(24),
        };
        continue;
      }
      if (isAuxFrame(payload)) {
        const a = parseAuxFrame(payload);
        ops.push({ type: 'put', key: auxKey(a.name), value: a.value });
        continue;
      }
      ops.push({ type: 'put', key: payload.subarray(0, 17), value: payload.subarray(17) });
    }
    rest = buf.subarray(off);
  }
  if (!meta || rest.length) throw new Error('mvcc: truncated snapshot');
  return { meta, ops };
}
