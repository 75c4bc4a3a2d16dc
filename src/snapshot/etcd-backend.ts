// The member's state laid out as etcd's backend (its bbolt buckets), so that a
// snapshot taken from etcd-ts is a file etcd's own tools read:
//   key   revision (8-byte main, '_', 8-byte sub; 't' appended for a deletion)
//         -> mvccpb.KeyValue (a deletion keeps only the key)
//   lease 8-byte lease id -> leasepb.Lease {ID, TTL}
//   alarm etcdserverpb.AlarmMember -> nothing
//   meta  consistent_index -> 8 bytes; finishedCompactRev and
//         scheduledCompactRev -> the compacted revision's 17 bytes
// All integers big-endian, as etcd writes them. Membership is left out:
// `etcdctl snapshot restore` replaces it with the flags it is given anyway.
import type { ScannedRecord } from '../mvcc/backend';
import { decodeRecord } from '../mvcc/codec';
import { bigVarint } from '../api/pb-writer';
import type { AlarmMember } from '../server/alarms';
import type { BoltBucket } from './bbolt-writer';

export interface MemberState {
  records: AsyncIterable<ScannedRecord>;
  compactRev: number;
  consistentIndex: number;
  leases: Array<{ id: bigint; ttl: number }>;
  alarms: AlarmMember[];
}

/** A protobuf varint field (wire type 0), left out when zero as proto3 does. */
function intField(tag: number, v: bigint | number): Buffer[] {
  const n = BigInt(v);
  return n === 0n ? [] : [Buffer.from([tag << 3]), bigVarint(n)];
}

/** A protobuf bytes field (wire type 2), left out when empty. */
function bytesField(tag: number, b: Buffer): Buffer[] {
  return b.length === 0 ? [] : [Buffer.from([(tag << 3) | 2]), bigVarint(BigInt(b.length)), b];
}

export function revisionBytes(main: number, sub: number, tombstone = false): Buffer {
  const b = Buffer.alloc(tombstone ? 18 : 17);
  b.writeBigUInt64BE(BigInt(main), 0);
  b[8] = 0x5f; // '_'
  b.writeBigUInt64BE(BigInt(sub), 9);
  if (tombstone) b[17] = 0x74; // 't'
  return b;
}

async function* keyBucket(records: AsyncIterable<ScannedRecord>): AsyncGenerator<[Buffer, Buffer]> {
  for await (const r of records) {
    const rec = decodeRecord(r.raw);
    const kv = rec.tombstone
      ? bytesField(1, rec.key)
      : [
          ...bytesField(1, rec.key),
          ...intField(2, rec.createRevision),
          ...intField(3, r.main),
          ...intField(4, rec.version),
          ...bytesField(5, rec.value),
          ...intField(6, rec.lease),
        ];
    yield [revisionBytes(r.main, r.sub, rec.tombstone), Buffer.concat(kv)];
  }
}

function int64Bytes(v: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)), 0);
  return b;
}

const byKey = (a: [Buffer, Buffer], b: [Buffer, Buffer]): number => Buffer.compare(a[0], b[0]);

/** The buckets in bbolt's (bytewise) name order. */
export function etcdBuckets(s: MemberState): BoltBucket[] {
  const meta: Array<[Buffer, Buffer]> = [[Buffer.from('consistent_index'), int64Bytes(s.consistentIndex)]];
  if (s.compactRev > 0) {
    meta.push([Buffer.from('finishedCompactRev'), revisionBytes(s.compactRev, 0)]);
    meta.push([Buffer.from('scheduledCompactRev'), revisionBytes(s.compactRev, 0)]);
  }
  const leases = s.leases.map((l): [Buffer, Buffer] => [int64Bytes(l.id), Buffer.concat([...intField(1, l.id), ...intField(2, l.ttl)])]);
  const alarms = s.alarms.map((a): [Buffer, Buffer] => [Buffer.concat([...intField(1, BigInt(a.memberId)), ...intField(2, a.alarm)]), Buffer.alloc(0)]);
  return [
    { name: Buffer.from('alarm'), entries: alarms.sort(byKey) },
    { name: Buffer.from('key'), entries: keyBucket(s.records) },
    { name: Buffer.from('lease'), entries: leases.sort(byKey) },
    { name: Buffer.from('meta'), entries: meta.sort(byKey) },
  ];
}
