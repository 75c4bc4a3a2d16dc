// The watch load, shared by `npm run bench:watch` and the comparison table:
// W watchers on one prefix (spread over streams and members) while N concurrent
// clients put keys under it. Measures the events per second delivered to all
// watchers and the lag from a put's acknowledgement to each watcher's receipt of
// its event (p50, p99; negative = the event arrived before the writer's ack).
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { loadEtcdProto } from '../src/api/proto';
import { decodeWatchSummary, type WatchSummary } from './lean-decode';
import { nearestRank } from './nearest-rank';

export interface WatchLoadOptions {
  watchers: number;
  writers: number;
  putsPerWriter: number;
}

export interface WatchResult {
  watchers: number;
  writers: number;
  puts: number;
  putsPerSec: number;
  delivered: number;
  expected: number;
  eventsPerSec: number;
  /** WatchResponses that carried events: how the server batched them. */
  eventResponses: number;
  lagP50Ms: number;
  lagP99Ms: number;
}

const WATCHERS_PER_STREAM = 50;
const VALUE = Buffer.alloc(128, 0x61);

type Duplex = grpc.ClientDuplexStream<object, WatchSummary>;

function ctor(name: string): grpc.ServiceClientConstructor {
  return (loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject)[name] as grpc.ServiceClientConstructor;
}

/** Runs the load against `endpoints` (host:port, one per member). */
export async function runWatchLoad(endpoints: string[], o: WatchLoadOptions): Promise<WatchResult> {
  const { watchers: WATCHERS, writers: WRITERS, putsPerWriter: PUTS_PER_WRITER } = o;
  const cluster = { endpoints };
  const opts = { 'grpc.max_receive_message_length': -1, 'grpc-node.flow_control_window': 16 << 20 };
  // Requests are encoded as grpc-js would; answers go through the lean decoder
  // (see lean-decode.ts), the same for both servers.
  const watchMethod = ctor('Watch').service['Watch']!;
  const Watch = grpc.makeGenericClientConstructor({ Watch: { ...watchMethod, responseDeserialize: decodeWatchSummary } }, 'Watch');
  const KV = ctor('KV');
  const total = WRITERS * PUTS_PER_WRITER;
  const ackAt = new Map<number, number>();
  // Every receipt is kept as (revision, time) and matched with its put's
  // acknowledgement after the run: per event, two typed-array writes, so the
  // bookkeeping costs the generator as little as the decoding does.
  const seenRev = new Float64Array(WATCHERS * total);
  const seenAt = new Float64Array(WATCHERS * total);
  let received = 0;
  let eventResponses = 0;
  let lastReceipt = 0;
  let created = 0;
  const clients: grpc.Client[] = [];
  const streams: Duplex[] = [];
  for (let s = 0; s * WATCHERS_PER_STREAM < WATCHERS; s++) {
    const c = new Watch(cluster.endpoints[s % cluster.endpoints.length]!, grpc.credentials.createInsecure(), opts);
    clients.push(c);
    const st = (c as unknown as { Watch: () => Duplex }).Watch();
    streams.push(st);
    st.on('data', (r) => {
      if (r.created) created++;
      const t = performance.now();
      const revs = r.modRevisions;
      if (revs.length === 0) return;
      eventResponses++;
      lastReceipt = t;
      for (let i = 0; i < revs.length; i++, received++) {
        // More events than puts x watchers is a server bug the count shows; only the expected number are timed.
        if (received >= seenRev.length) continue;
        seenRev[received] = revs[i]!;
        seenAt[received] = t;
      }
    });
    st.on('error', () => undefined);
    const n = Math.min(WATCHERS_PER_STREAM, WATCHERS - s * WATCHERS_PER_STREAM);
    for (let i = 0; i < n; i++) st.write({ create_request: { key: Buffer.from('bench/'), range_end: Buffer.from('bench0') } });
  }
  for (let i = 0; i < 3000 && created < WATCHERS; i++) await new Promise((r) => setTimeout(r, 10));
  if (created < WATCHERS) throw new Error(`only ${created} of ${WATCHERS} watchers created`);

  // 100 writers over 10 connections per member, each with one put in flight at a time.
  const kvs = cluster.endpoints.flatMap((ep) => Array.from({ length: 10 }, () => new KV(ep, grpc.credentials.createInsecure())));
  clients.push(...kvs);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const kv = kvs[w % kvs.length]!;
      for (let i = 0; i < PUTS_PER_WRITER; i++) {
        const res = await new Promise<{ header: { revision: string } }>((resolve, reject) =>
          (kv as unknown as { Put: (r: object, cb: (e: Error | null, v: { header: { revision: string } }) => void) => void }).Put(
            { key: Buffer.from(`bench/${w}`), value: VALUE },
            (e, v) => (e ? reject(e) : resolve(v)),
          ),
        );
        ackAt.set(Number(res.header.revision), performance.now());
      }
    }),
  );
  const writeSecs = (performance.now() - t0) / 1000;
  const expected = WATCHERS * total;
  for (let i = 0; i < 6000 && received < expected; i++) await new Promise((r) => setTimeout(r, 10));
  const timed = Math.min(received, seenRev.length);
  const lags = new Float64Array(timed);
  for (let i = 0; i < timed; i++) lags[i] = seenAt[i]! - (ackAt.get(seenRev[i]!) ?? seenAt[i]!);
  const sorted = lags.sort();
  for (const s of streams) s.cancel();
  for (const c of clients) c.close();
  return {
    watchers: WATCHERS,
    writers: WRITERS,
    puts: total,
    putsPerSec: Math.round(total / writeSecs),
    delivered: received,
    expected,
    eventsPerSec: Math.round(received / ((lastReceipt - t0) / 1000)),
    eventResponses,
    lagP50Ms: nearestRank(sorted, 0.5),
    lagP99Ms: nearestRank(sorted, 0.99),
  };
}

