// Hand-written protobuf encoding of WatchResponse, the bytes a busy watch
// stream is made of. protobufjs writes every field it is given, zeros too (a
// PUT event's type 0, a lease 0, watch_id 0); etcd's Go encoder leaves zero
// scalars out, and clients pay for each one they decode (a lease turns into a
// Long and then a string in grpc-js clients). Field numbers: proto/rpc.proto
// (WatchResponse) and proto/kv.proto (Event).
import type { Event } from '../mvcc/types';
import type { WatchReply } from '../watch/stream';
import {
  bigVarint,
  headerSize,
  kvSize,
  lenSize,
  numSize,
  T1L,
  T1V,
  T2L,
  T3L,
  writeHeader,
  writeKv,
  Writer,
  type HeaderFields,
} from './pb-writer';

// WatchResponse: header 1, watch_id 2, created 3, canceled 4, compact_revision 5,
// cancel_reason 6, fragment 7, events 11.
const W_WATCH_ID = 0x10, W_CREATED = 0x18, W_CANCELED = 0x20, W_COMPACT_REV = 0x28, W_REASON = 0x32, W_FRAGMENT = 0x38;
const W_EVENTS = 0x5a;
/** Event.type DELETE; PUT is 0 and stays off the wire. */
const DELETE = 1;

/**
 * The events of a WatchResponse as their own bytes (repeated field 11). Many
 * watchers get the same events array from one batch, so this is made once per
 * array and appended to each watcher's head: protobuf allows fields in any
 * order, and head + events is a valid WatchResponse.
 */
export function encodeWatchEvents(events: readonly Event[]): Buffer {
  // Each size once: kv, prev_kv and the event around them.
  const n = events.length;
  const kvSizes = new Array<number>(n);
  const prevSizes = new Array<number>(n);
  const sizes = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    kvSizes[i] = kvSize(e.kv);
    prevSizes[i] = e.prevKv ? kvSize(e.prevKv) : -1;
    sizes[i] = (e.type === 'DELETE' ? 2 : 0) + lenSize(kvSizes[i]!) + (e.prevKv ? lenSize(prevSizes[i]!) : 0);
    total += lenSize(sizes[i]!);
  }
  const w = new Writer(Buffer.allocUnsafe(total));
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    w.head(W_EVENTS, sizes[i]!);
    if (e.type === 'DELETE') w.num(T1V, DELETE);
    writeKv(w, T2L, e.kv, kvSizes[i]!);
    if (e.prevKv) writeKv(w, T3L, e.prevKv, prevSizes[i]!);
  }
  return w.done(total, 'encode-watch');
}

/** Everything of a WatchResponse but its events. watch_id may be -1 (int64, ten bytes on the wire). */
export function encodeWatchHead(r: WatchReply, h: HeaderFields): Buffer {
  const hs = headerSize(h);
  // Negative ids (-1) as int64 two's complement: ten varint bytes.
  const negId = r.watchId < 0 ? bigVarint(BigInt(r.watchId)) : undefined;
  const id = negId ? 1 + negId.length : numSize(r.watchId);
  const reason = r.cancelReason ? Buffer.from(r.cancelReason, 'utf8') : undefined;
  const total =
    lenSize(hs) +
    id +
    (r.created ? 2 : 0) +
    (r.canceled ? 2 : 0) +
    numSize(r.compactRevision ?? 0) +
    (reason ? lenSize(reason.length) : 0) +
    (r.fragment ? 2 : 0);
  const w = new Writer(Buffer.allocUnsafe(total));
  writeHeader(w, T1L, h, hs);
  if (negId) w.raw(W_WATCH_ID, negId);
  else w.num(W_WATCH_ID, r.watchId);
  w.bool(W_CREATED, !!r.created);
  w.bool(W_CANCELED, !!r.canceled);
  w.num(W_COMPACT_REV, r.compactRevision ?? 0);
  if (reason) w.bytes(W_REASON, reason);
  w.bool(W_FRAGMENT, !!r.fragment);
  return w.done(total, 'encode-watch');
}
