// The other direction of etcd-backend.ts: an etcd backend file (a snapshot
// `etcdctl snapshot save` took from a real etcd) read into an etcd-ts store.
// Every version in the key bucket becomes a record at the same revision, the
// compacted revision comes from the meta bucket, leases and alarms become the
// aux records the lessor and the alarm store keep. Membership, auth and the
// consistent index are not carried over: the members that start from the
// restored store form a new cluster from their flags, as etcd's restore does.
import { encodeRecord, encodeTombstone } from '../mvcc/codec';
import type { ScannedRecord } from '../mvcc/backend';
import { snapshotChunks } from '../mvcc/snapshot';
import type { MvccStore } from '../mvcc/store';
import type { BoltReader } from './bbolt-reader';

/** Protobuf fields of one message: varints as bigint, length-delimited as Buffer (enough for KeyValue and Lease). */
function fields(b: Buffer): Map<number, bigint | Buffer> {
  const out = new Map<number, bigint | Buffer>();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; i < b.length; shift += 7n) {
      const byte = b[i++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
    throw new Error('truncated varint');
  };
  while (i < b.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    if (wire === 0) out.set(tag >> 3, varint());
    else if (wire === 2) {
      const len = Number(varint());
      out.set(tag >> 3, b.subarray(i, i + len));
      i += len;
    } else throw new Error(`unexpected protobuf wire type ${wire}`);
  }
  return out;
}

const int = (f: Map<number, bigint | Buffer>, n: number): bigint => (f.get(n) as bigint | undefined) ?? 0n;
const bytes = (f: Map<number, bigint | Buffer>, n: number): Buffer => (f.get(n) as Buffer | undefined) ?? Buffer.alloc(0);

/** etcd's revision key: 8-byte main, '_', 8-byte sub, and 't' for a deletion. */
function revisionOf(k: Buffer): { main: number; sub: number; tombstone: boolean } {
  if (k.length < 17 || k[8] !== 0x5f) throw new Error(`not a revision key: ${k.toString('hex')}`);
  return { main: Number(k.readBigUInt64BE(0)), sub: Number(k.readBigUInt64BE(9)), tombstone: k.length === 18 && k[17] === 0x74 };
}

export interface ImportSummary {
  revision: number;
  compactRevision: number;
  versions: number;
  leases: number;
  alarms: number;
}

/** Replaces `store`'s content with the etcd backend `db`'s. */
export async function importEtcdBackend(db: BoltReader, store: MvccStore): Promise<ImportSummary> {
  let revision = 0;
  let versions = 0;
  const records = async function* (): AsyncGenerator<ScannedRecord> {
    for (const [k, v] of db.entries('key')) {
      const r = revisionOf(k);
      const kv = fields(v);
      const key = bytes(kv, 1);
      const raw = r.tombstone ? encodeTombstone(key) : encodeRecord(key, bytes(kv, 5), Number(int(kv, 2)), Number(int(kv, 4)), BigInt.asIntN(64, int(kv, 6)));
      versions++;
      yield { main: r.main, sub: r.sub, raw };
    }
  };
  let compactRevision = -1;
  for (const [k, v] of db.entries('meta')) {
    if (k.toString('latin1') === 'finishedCompactRev') compactRevision = revisionOf(v).main;
  }
  const aux: Array<[string, Buffer]> = [];
  for (const [, v] of db.entries('lease')) {
    const l = fields(v);
    const ttl = Buffer.alloc(8);
    ttl.writeDoubleBE(Number(int(l, 2)), 0);
    aux.push([`lease/${BigInt.asIntN(64, int(l, 1))}`, ttl]);
  }
  const leases = aux.length;
  for (const [k] of db.entries('alarm')) {
    const a = fields(k);
    aux.push([`alarm/${int(a, 2)}/${int(a, 1)}`, Buffer.from([1])]);
  }
  // The store's revision is its newest record's: a first pass over the keys
  // finds it, since the snapshot's header comes before its records.
  for (const [k] of db.entries('key')) revision = Math.max(revision, revisionOf(k).main);
  await store.restore(snapshotChunks(records(), { rev: revision, compactRev: compactRevision, consistentIndex: 0 }, aux), 0);
  return { revision, compactRevision, versions, leases, alarms: aux.length - leases };
}
