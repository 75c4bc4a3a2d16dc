// bbolt's on-disk constants, shared by the writer and the reader (see
// bbolt-writer.ts for the layout they describe).
export const BOLT_MAGIC = 0xed0cdaed;
export const BOLT_VERSION = 2;
/** Page header: id u64, flags u16, count u16, overflow u32. */
export const PAGE_HEADER = 16;
/** A leaf or branch element. */
export const ELEMENT = 16;
export const BRANCH_FLAG = 0x01;
export const LEAF_FLAG = 0x02;
export const META_FLAG = 0x04;
export const FREELIST_FLAG = 0x10;
/** On a leaf element: its value is a bucket. */
export const BUCKET_LEAF_FLAG = 0x01;

/** bbolt's meta checksum: 64-bit FNV-1a over the meta's bytes before the checksum. */
export function fnv1a64(b: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of b) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h;
}
