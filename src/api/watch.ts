// The Watch service: one WatchStream per gRPC call. Requests are decoded here
// (empty key -> "\0", range_end "\0" -> every key from key, as etcd's
// v3rpc/watch.go does); replies get the header of the moment they are made.
// The grpc call's write() result is the backpressure signal the hub relies on.
import { tokenOf } from './call-token';
import type * as grpc from '@grpc/grpc-js';
import type { Event } from '../mvcc/types';
import type { HeaderValues } from '../server/etcd-server';
import type { WatchHub } from '../watch/hub';
import { WatchStream, type WatchReply } from '../watch/stream';
import type { WatchSpec } from '../watch/watcher';
import type { WatchRequest__Output } from '../gen/etcdserverpb/WatchRequest';
import type { WatchCreateRequest__Output } from '../gen/etcdserverpb/WatchCreateRequest';
import { EncodedAnswer } from './encode-kv';
import { encodeWatchEvents, encodeWatchHead } from './encode-watch';

export interface WatchServiceDeps {
  hub: WatchHub;
  header: () => HeaderValues;
  /** Fragmenting watchers get responses split above this (max-request-bytes + gRPC overhead). */
  maxResponseBytes: number;
  /** With auth on: why a watch on [key, range_end) may not be created for this token, or undefined. */
  authorize?: (token: string | undefined, key: Buffer, rangeEnd: Buffer) => Promise<string | undefined> | undefined;
}

/** Events arrays shared by many watchers are encoded once (see encodeWatchEvents). */
const encodedEvents = new WeakMap<Event[], Buffer>();

function eventsBytes(events: Event[]): Buffer {
  let bytes = encodedEvents.get(events);
  if (!bytes) {
    bytes = encodeWatchEvents(events);
    encodedEvents.set(events, bytes);
  }
  return bytes;
}

export function createSpecFromPb(c: WatchCreateRequest__Output): WatchSpec {
  const key = c.key && c.key.length > 0 ? c.key : Buffer.from([0]);
  let rangeEnd: Buffer | undefined;
  if (c.range_end && c.range_end.length > 0) {
    rangeEnd = c.range_end.length === 1 && c.range_end[0] === 0 ? Buffer.alloc(0) : c.range_end;
  }
  const filters = (c.filters ?? []).map(String);
  return {
    key,
    rangeEnd,
    startRevision: Math.max(0, Number(c.start_revision || 0)),
    prevKv: !!c.prev_kv,
    noPut: filters.includes('NOPUT') || filters.includes('0'),
    noDelete: filters.includes('NODELETE') || filters.includes('1'),
    progressNotify: !!c.progress_notify,
    fragment: !!c.fragment,
  };
}

export function watchService(deps: WatchServiceDeps): grpc.UntypedServiceImplementation {
  return {
    Watch: (call: grpc.ServerDuplexStream<WatchRequest__Output, Buffer | EncodedAnswer>) => {
      // Ready-made bytes, which the client server sends as they are
      // (passBuffersThrough in grpc-server.ts). With events, head and events
      // are joined in the shared scratch buffer grpc-js copies from at once,
      // rather than in a fresh buffer per watcher and reply.
      const toPb = (r: WatchReply): Buffer | EncodedAnswer => {
        const head = encodeWatchHead(r, { ...deps.header(), revision: r.revision });
        if (r.events.length === 0) return head;
        const events = eventsBytes(r.events);
        return new EncodedAnswer(head.length + events.length, (w) => {
          w.fields(head);
          w.fields(events);
        });
      };
      let open = true;
      const stream = new WatchStream(
        deps.hub,
        { write: (r) => (open ? call.write(toPb(r)) : false) },
        deps.maxResponseBytes,
      );
      const token = tokenOf(call.metadata);
      // With auth on, the caller must be allowed to read the range (etcd's
      // isWatchPermitted), checked on the range as etcd 3.4 rewrites it: an
      // empty key is "\0", and a "\0" range end (every key from key on) is
      // checked as the key alone. Undefined: nothing to check.
      const authorize = (c: NonNullable<WatchRequest__Output['create_request']>): Promise<string | undefined> | undefined => {
        if (!deps.authorize) return undefined;
        const key = c.key && c.key.length > 0 ? Buffer.from(c.key) : Buffer.from([0]);
        const end = c.range_end && !(c.range_end.length === 1 && c.range_end[0] === 0) ? Buffer.from(c.range_end) : Buffer.alloc(0);
        return deps.authorize(token, key, end);
      };
      call.on('drain', () => stream.drained());
      const handle = (req: WatchRequest__Output, refused: string | undefined): void => {
        if (!open) return; // the call ended while an auth check was pending
        if (req.create_request) {
          const c = req.create_request;
          if (refused) stream.refuse(refused);
          else stream.create(createSpecFromPb(c), Number(c.watch_id || 0));
        } else if (req.cancel_request) {
          stream.cancel(Number(req.cancel_request.watch_id || 0));
        } else if (req.progress_request) {
          stream.progress();
        }
      };
      // Requests are handled in order. A create that must wait for an auth
      // check holds the ones after it in `queue` until it is done.
      let queue: Promise<void> | undefined;
      call.on('data', (req: WatchRequest__Output) => {
        const check = req.create_request ? authorize(req.create_request) : undefined;
        if (!queue && !check) return handle(req, undefined);
        const prev = queue ?? Promise.resolve();
        const mine = prev.then(async () => handle(req, await check));
        queue = mine;
        void mine.finally(() => {
          if (queue === mine) queue = undefined;
        });
      });
      const close = () => {
        open = false;
        stream.close();
      };
      // The client closing its sending side does not end the watches (etcd keeps
      // serving until the call itself is cancelled).
      call.on('cancelled', close);
      call.on('error', close);
      call.on('close', close);
    },
  };
}
