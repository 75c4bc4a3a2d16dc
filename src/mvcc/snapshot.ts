// The store as a stream of frames for Raft snapshots: a header (revision,
// compacted revision, consistent index) and then every backend record in
// revision order. Frames are length-prefixed so the receiver may re-chunk
// the bytes any way it likes. Records condemned by compaction but not yet
// physically removed may be included; the receiver's own pass drops them.

import type { Backend, ScannedRecord } from './backend';
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

type Op = { type: 'put'; key: Buffer; value: Buffer };

/**
 * Replaces the backend's records with the snapshot's. Returns its header.
 * The caller writes the meta keys and reloads the index afterwards.
 */
export async function writeSnapshot(
  backend: Backend,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<SnapshotMeta> {
  await backend.db.clear({ gte: Buffer.from([REV_PREFIX]), lt: REV_UPPER });
  await backend.db.clear({ gte: AUX_LOWER, lt: AUX_UPPER });
  let meta: SnapshotMeta | undefined;
  let rest: Buffer = Buffer.alloc(0);
  let ops: Op[] = [];
  let opBytes = 0;
  for await (const chunk of chunks) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
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
      // Copy out: the chunk buffer must not be pinned by every record.
      ops.push({ type: 'put', key: Buffer.from(payload.subarray(0, 17)), value: Buffer.from(payload.subarray(17)) });
      opBytes += len;
      if (opBytes >= CHUNK_BYTES) {
        await backend.db.batch(ops);
        ops = [];
        opBytes = 0;
      }
    }
    rest = buf.subarray(off);
    buf = rest;
  }
  if (ops.length) await backend.db.batch(ops);
  if (!meta || rest.length) throw new Error('mvcc: truncated snapshot');
  return meta;
}
