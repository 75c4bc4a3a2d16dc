// Auxiliary records: small state kept beside the MVCC data by other state
// machines (the lessor's leases). They live under their own meta-key prefix,
// are written in the same LevelDB batch as the consistent index (so a crash
// never separates them from the entries that produced them), and travel in
// snapshots as their own frames.
import { META_PREFIX } from './codec';

const AUX_TAG = Buffer.from([META_PREFIX, 0x61, 0x75, 0x78, 0x2f]); // 'z' 'aux/'
export const AUX_LOWER = AUX_TAG;
export const AUX_UPPER = Buffer.from([META_PREFIX, 0x61, 0x75, 0x78, 0x30]); // 'aux0' > 'aux/'

export function auxKey(name: string): Buffer {
  return Buffer.concat([AUX_TAG, Buffer.from(name, 'latin1')]);
}

export function auxName(key: Buffer): string {
  return key.subarray(AUX_TAG.length).toString('latin1');
}

/** A snapshot frame for one aux record: tag byte, name length, name, value. */
export function auxFrame(name: string, value: Buffer): Buffer {
  const n = Buffer.from(name, 'latin1');
  const head = Buffer.allocUnsafe(3);
  head[0] = META_PREFIX;
  head.writeUInt16BE(n.length, 1);
  return Buffer.concat([head, n, value]);
}

export function isAuxFrame(payload: Buffer): boolean {
  return payload[0] === META_PREFIX;
}

export function parseAuxFrame(payload: Buffer): { name: string; value: Buffer } {
  const len = payload.readUInt16BE(1);
  return { name: payload.subarray(3, 3 + len).toString('latin1'), value: Buffer.from(payload.subarray(3 + len)) };
}
