// Watch figures on 3-member clusters, etcd-ts and Debian's real etcd side by
// side: 1,000 watchers on one prefix (spread over streams and members) while
// 100 concurrent clients put keys under it. Prints the events per second
// delivered to all watchers and the lag from a put's acknowledgement to each
// watcher's receipt of its event (p50, p99; negative = the event arrived
// before the writer's ack). Benchmarks print figures; they assert nothing.
// Run: npm run bench:watch [-- --watchers 1000 --writers 100 --puts 20]
//      (add --endpoints host:port,... to measure a cluster that is already running)
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadEtcdProto } from '../src/api/proto';
import { startEtsCluster, startRealEtcd, type RunningCluster } from '../test/support/cluster';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const WATCHERS = arg('watchers', 1000);
const WRITERS = arg('writers', 100);
const PUTS_PER_WRITER = arg('puts', 20);
const WATCHERS_PER_STREAM = 50;
const VALUE = Buffer.alloc(128, 0x61);

type Duplex = grpc.ClientDuplexStream<object, { created: boolean; events: Array<{ kv: { mod_revision: string } }> }>;

function ctor(name: string): grpc.ServiceClientConstructor {
  return (loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject)[name] as grpc.ServiceClientConstructor;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function run(cluster: RunningCluster): Promise<Record<string, string | number>> {
  const opts = { 'grpc.max_receive_message_length': -1 };
  const Watch = ctor('Watch');
  const KV = ctor('KV');
  const total = WRITERS * PUTS_PER_WRITER;
  const ackAt = new Map<number, number>();
  const lags = new Float64Array(WATCHERS * total);
  let nLags = 0;
  let received = 0;
  let lastReceipt = 0;
  let created = 0;
  const clients: grpc.Client[] = [];
  const streams: Duplex[] = [];
  const early: Array<[number, number]> = []; // events seen before their put was acknowledged
  for (let s = 0; s * WATCHERS_PER_STREAM < WATCHERS; s++) {
    const c = new Watch(cluster.endpoints[s % cluster.endpoints.length]!, grpc.credentials.createInsecure(), opts);
    clients.push(c);
    const st = (c as unknown as { Watch: () => Duplex }).Watch();
    streams.push(st);
    st.on('data', (r) => {
      if (r.created) created++;
      const t = performance.now();
      for (const e of r.events) {
        const rev = Number(e.kv.mod_revision);
        const a = ackAt.get(rev);
        if (a === undefined) early.push([rev, t]);
        else lags[nLags++] = t - a;
        received++;
        lastReceipt = t;
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
  for (const [rev, t] of early) lags[nLags++] = t - (ackAt.get(rev) ?? t);
  const sorted = lags.subarray(0, nLags).sort();
  for (const s of streams) s.cancel();
  for (const c of clients) c.close();
  return {
    watchers: WATCHERS,
    writers: WRITERS,
    puts: total,
    'puts/s': Math.round(total / writeSecs),
    delivered: `${received}/${expected}`,
    'events/s delivered': Math.round(received / ((lastReceipt - t0) / 1000)),
    'lag p50 ms': pct(sorted, 50).toFixed(1),
    'lag p99 ms': pct(sorted, 99).toFixed(1),
  };
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, string | number>> = {};
  const given = process.argv.indexOf('--endpoints');
  if (given >= 0) {
    const endpoints = process.argv[given + 1]!.split(',');
    results['given cluster'] = await run({ endpoints } as RunningCluster);
    console.table(results);
    return;
  }
  const ets = await startEtsCluster(3);
  try {
    results['etcd-ts'] = await run(ets);
  } finally {
    await ets.stop();
  }
  let etcdBin: string | undefined;
  try {
    etcdBin = execFileSync('which', ['etcd'], { encoding: 'utf8' }).trim();
  } catch {
    console.error('etcd not installed: only etcd-ts measured (apt-get install etcd-server)');
  }
  if (etcdBin) {
    const real = await startRealEtcd(etcdBin, 3);
    try {
      results['etcd 3.4'] = await run(real);
    } finally {
      await real.stop();
    }
  }
  console.table(results);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
