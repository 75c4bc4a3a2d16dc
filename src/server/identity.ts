// Member and cluster ids derived as etcd derives them, so that the same command
// lines give the same ids on every member, across restarts, and as real etcd:
// a member id is the first 8 bytes of sha1(sorted peer URLs + cluster token),
// a cluster id the first 8 bytes of sha1 of the sorted member ids.
import { createHash } from 'node:crypto';
import type { NodeId } from '../raft/types';

/** Member ids are uint64; we carry them as lowercase hex, as etcd prints them. */
export function memberId(peerUrls: readonly string[], clusterToken: string, addedAtUnixSeconds?: number): NodeId {
  const joined = [...peerUrls].sort().join('');
  const suffix = addedAtUnixSeconds === undefined ? '' : String(addedAtUnixSeconds);
  const digest = createHash('sha1').update(joined + clusterToken + suffix, 'utf8').digest();
  return digest.readBigUInt64BE(0).toString(16);
}

export function clusterId(memberIds: readonly NodeId[]): NodeId {
  const sorted = memberIds.map((id) => BigInt('0x' + id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(buf).digest().readBigUInt64BE(0).toString(16);
}

/** The decimal string a uint64 field carries on the wire. */
export function idToDecimal(id: NodeId): string {
  return id === '' ? '0' : BigInt('0x' + id).toString(10);
}

export function idFromDecimal(dec: string | number): NodeId {
  const n = BigInt(dec);
  return n === 0n ? '' : n.toString(16);
}
