// Byte layout of the MVCC backend. Every version of every key is one LevelDB
// record keyed by its revision, so a scan in key order is a scan in revision
// order (the change feed, hashKV, snapshots and compaction all rely on that).
// Hand-rolled binary instead of msgpack: this runs once per write on the hot path.

/** Backend key prefixes. */
export const REV_PREFIX = 0x72; // 'r' + main(8, BE) + sub(8, BE)
// After every revision key: the meta keys are rewritten by every commit, and
// a rewritten key below the revisions would make each LevelDB memtable flush
// span all of them, so that every level-0 compaction rewrote the whole store.
// Above them, a flush overlaps only the newest tables.
export const META_PREFIX = 0x7a; // 'z' + name

export const META_CONSISTENT_INDEX = metaKey('consistent_index');
/** The compaction revision applied to the index (what readers see). */
export const META_COMPACT = metaKey('compact_scheduled');
/** The compaction revision whose physical deletion finished. */
export const META_COMPACT_DONE = metaKey('compact_finished');
/** The current revision, needed when the newest record was compacted away or for an empty store. */
export const META_REV = metaKey('revision');

function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([META_PREFIX]), Buffer.from(name, 'latin1')]);
}

const TWO32 = 2 ** 32;

export function revKey(main: number, sub: number): Buffer {
  const b = Buffer.allocUnsafe(17);
  b[0] = REV_PREFIX;
  b.writeUInt32BE(Math.floor(main / TWO32), 1);
  b.writeUInt32BE(main >>> 0, 5);
  b.writeUInt32BE(Math.floor(sub / TWO32), 9);
  b.writeUInt32BE(sub >>> 0, 13);
  return b;
}

export function revKeyMain(k: Uint8Array): number {
  const b = k as Buffer;
  return b.readUInt32BE(1) * TWO32 + b.readUInt32BE(5);
}

export function revKeySub(k: Uint8Array): number {
  const b = k as Buffer;
  return b.readUInt32BE(9) * TWO32 + b.readUInt32BE(13);
}

/** Lower bound of all revision keys at or after `main`. */
export function revLowerBound(main: number): Buffer {
  return revKey(Math.max(0, main), 0);
}

export const REV_UPPER = Buffer.from([REV_PREFIX + 1]);

/** A stored version. modRevision is the record key's main revision. */
export interface StoredRecord {
  tombstone: boolean;
  key: Buffer;
  createRevision: number;
  version: number;
  lease: bigint;
  value: Buffer;
}

const HEADER = 1 + 8 + 8 + 8 + 4;

export function encodeRecord(
  key: Buffer,
  value: Buffer,
  createRevision: number,
  version: number,
  lease: bigint,
): Buffer {
  // From Node's pool when small: the record lives only until its batch is written
  // (the key index keeps the live value as a string of its own).
  const b = Buffer.allocUnsafe(HEADER + key.length + value.length);
  b[0] = 0;
  b.writeDoubleBE(createRevision, 1);
  b.writeDoubleBE(version, 9);
  b.writeBigInt64BE(lease, 17);
  b.writeUInt32BE(key.length, 25);
  key.copy(b, HEADER);
  value.copy(b, HEADER + key.length);
  return b;
}

export function encodeTombstone(key: Buffer): Buffer {
  const b = Buffer.alloc(HEADER + key.length);
  b[0] = 1;
  b.writeUInt32BE(key.length, 25);
  key.copy(b, HEADER);
  return b;
}

export function decodeRecord(raw: Uint8Array): StoredRecord {
  const b = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const keyLen = b.readUInt32BE(25);
  return {
    tombstone: b[0] === 1,
    createRevision: b.readDoubleBE(1),
    version: b.readDoubleBE(9),
    lease: b.readBigInt64BE(17),
    key: b.subarray(HEADER, HEADER + keyLen),
    value: b.subarray(HEADER + keyLen),
  };
}

/** The key of a record as a latin1 string, without decoding the rest. */
export function recordKeyString(raw: Uint8Array): string {
  const b = raw as Buffer;
  const keyLen = b.readUInt32BE(25);
  return b.toString('latin1', HEADER, HEADER + keyLen);
}

export function encodeNumber(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(n, 0);
  return b;
}

export function decodeNumber(b: Uint8Array | undefined, dflt: number): number {
  if (!b || b.byteLength !== 8) return dflt;
  return Buffer.from(b.buffer, b.byteOffset, 8).readDoubleBE(0);
}
