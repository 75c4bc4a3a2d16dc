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

function eventSize(e: Event): number {
  return (e.type === 'DELETE' ? 2 : 0) + lenSize(kvSize(e.kv)) + (e.prevKv ? lenSize(kvSize(e.prevKv)) : 0);
}

/**
 * The events of a WatchResponse as their own bytes (repeated field 11). Many
 * watchers get the same events array from one batch, so this is made once per
 * array and appended to each watcher's head: protobuf allows fields in any
 * order, and head + events is a valid WatchResponse.
 */
export function encodeWatchEvents(events: readonly Event[]): Buffer {
  let total = 0;
  const sizes = new Array<number>(events.length);
  for (let i = 0; i < events.length; i++) {
    sizes[i] = eventSize(events[i]!);
    total += lenSize(sizes[i]!);
  }
  const w = new Writer(Buffer.allocUnsafe(total));
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    w.head(W_EVENTS, sizes[i]!);
    if (e.type === 'DELETE') w.num(T1V, DELETE);
    writeKv(w, T2L, e.kv, kvSize(e.kv));
    if (e.prevKv) writeKv(w, T3L, e.prevKv, kvSize(e.prevKv));
  }
  return finish(w, total);
}

/** Everything of a WatchResponse but its events. watch_id may be -1 (int64, ten bytes on the wire). */
export function encodeWatchHead(r: WatchReply, h: HeaderFields): Buffer {
  const hs = headerSize(h);
  const id = r.watchId >= 0 ? numSize(r.watchId) : 1 + bigVarint(BigInt(r.watchId)).length;
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
  if (r.watchId >= 0) w.num(W_WATCH_ID, r.watchId);
  else w.raw(W_WATCH_ID, bigVarint(BigInt(r.watchId)));
  w.bool(W_CREATED, !!r.created);
  w.bool(W_CANCELED, !!r.canceled);
  w.num(W_COMPACT_REV, r.compactRevision ?? 0);
  if (reason) w.bytes(W_REASON, reason);
  w.bool(W_FRAGMENT, !!r.fragment);
  return finish(w, total);
}

function finish(w: Writer, size: number): Buffer {
  if (w.pos !== size) throw new Error(`encode-watch: wrote ${w.pos} bytes of ${size}`);
  return w.buf;
}
