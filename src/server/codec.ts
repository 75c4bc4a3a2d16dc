// The one msgpack codec for everything a member writes into Raft entries and the
// WAL: plain objects stay objects, Buffers stay Buffers, and bigint (int64 lease
// ids) round-trips exactly while ordinary numbers (revisions, indexes) stay numbers.
import { Packr } from 'msgpackr';

export const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode<T>(data: Uint8Array): T {
  return packr.unpack(data) as T;
}
