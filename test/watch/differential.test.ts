// The same script of Watch and Lease requests against a fresh real etcd
// (Debian's 3.4) and a fresh etcd-ts member: replies must be equal apart from
// header ids and terms (and remaining TTLs, which depend on the clock).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import { call, kvClient, RunningCluster, startEtsCluster, startRealEtcd } from '../support/cluster';
import { RawWatch, sleep, type PbWatchResponse } from '../support/watch-client';
import { requireTool } from '../support/tools';

const etcdBin = requireTool('etcd');
const b = (s: string): Buffer => Buffer.from(s);
let ets: RunningCluster;
let real: RunningCluster;

beforeAll(async () => {
  if (!etcdBin) return;
  [ets, real] = await Promise.all([startEtsCluster(1), startRealEtcd(etcdBin, 1)]);
});
afterAll(async () => {
  await Promise.all([ets?.stop(), real?.stop()]);
});

function norm(r: PbWatchResponse): unknown {
  const kv = (k: { key: Buffer; value: Buffer; create_revision: string; mod_revision: string; version: string; lease: string } | null) =>
    k && [String(k.key), String(k.value), k.create_revision, k.mod_revision, k.version, k.lease];
  return {
    id: r.watch_id,
    created: r.created,
    canceled: r.canceled,
    compact: r.compact_revision,
    reason: r.cancel_reason,
    fragment: r.fragment,
    rev: r.header.revision,
    events: r.events.map((e) => [e.type, kv(e.kv), kv(e.prev_kv)]),
  };
}

/** Waits until no reply arrived for quietMs (bounded). */
async function settle(ws: RawWatch[], quietMs = 400): Promise<void> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const n = ws.reduce((s, w) => s + w.replies.length, 0);
    if (n === last) return;
    last = n;
    await sleep(quietMs);
  }
}

async function watchScript(endpoint: string): Promise<unknown[]> {
  const kv = kvClient(endpoint, 'KV');
  const put = (k: string, v: string) => call(kv, 'Put', { key: b(k), value: b(v) });
  await put('a', '1');
  await put('b', '1');
  await put('a', '2');
  await call(kv, 'DeleteRange', { key: b('b') });
  await call(kv, 'Compact', { revision: 3 });
  const s1 = new RawWatch(endpoint);
  const s2 = new RawWatch(endpoint);
  const steps: Array<() => void | Promise<unknown>> = [
    () => s1.create({ key: b('a'), start_revision: 2 }), // compacted
    () => s1.create({ key: b('a'), range_end: b('\0'), start_revision: 3, prev_kv: true }),
    () => s1.create({ key: b('z'), range_end: b('a') }),
    () => s1.create({ key: b('a'), watch_id: 5 }),
    () => s1.create({ key: b('a'), watch_id: 5 }),
    () => s1.create({ key: b('a') }),
    () => s1.cancel(99),
    () => s1.cancel(5),
    () => s2.create({ key: b(''), range_end: b('\0'), filters: ['NOPUT'] }),
    () => s2.create({ key: b('') }),
    () => s2.create({ key: b('c'), range_end: b('d'), start_revision: 100 }),
    () => put('a', '3'),
    () => call(kv, 'Txn', { compare: [], success: [{ request_put: { key: b('c1'), value: b('x') } }, { request_delete_range: { key: b('a') } }], failure: [] }),
    () => s2.progress(),
  ];
  for (const step of steps) {
    await step();
    await settle([s1, s2]);
  }
  s1.close();
  s2.close();
  // etcd hands one revision to its watchers in map order (random): compare
  // each watch id's own sequence, not the interleaving between ids.
  const byId = (rs: PbWatchResponse[]) => {
    const m: Record<string, unknown[]> = {};
    for (const r of rs) (m[r.watch_id] ??= []).push(norm(r));
    return m;
  };
  return [byId(s1.replies), byId(s2.replies)];
}

type Outcome = { ok: unknown } | { code: number; details: string };

async function leaseScript(endpoint: string): Promise<Outcome[]> {
  const lease = kvClient(endpoint, 'Lease');
  const kv = kvClient(endpoint, 'KV');
  const strip = (v: Record<string, unknown>) => {
    const { header: _h, TTL, ...rest } = v;
    return { ...rest, TTL: Number(TTL) > 0 && 'grantedTTL' in v ? 'positive' : TTL };
  };
  const run = async (p: Promise<unknown>): Promise<Outcome> => {
    try {
      return { ok: strip((await p) as Record<string, unknown>) };
    } catch (e) {
      const err = e as grpc.ServiceError;
      return { code: err.code, details: err.details };
    }
  };
  const keepAlive = (id: number) =>
    new Promise<unknown>((resolve, reject) => {
      const s = (lease as unknown as { LeaseKeepAlive: () => grpc.ClientDuplexStream<object, unknown> }).LeaseKeepAlive();
      s.on('data', (r) => {
        resolve(r);
        s.cancel();
      });
      s.on('error', (e: grpc.ServiceError) => e.code !== 1 && reject(e));
      s.write({ ID: id });
    });
  return [
    await run(call(lease, 'LeaseGrant', { ID: 100, TTL: 1 })),
    await run(call(lease, 'LeaseGrant', { ID: 100, TTL: 60 })),
    await run(call(lease, 'LeaseGrant', { ID: 101, TTL: 9_000_000_001 })),
    await run(call(lease, 'LeaseGrant', { ID: 102, TTL: 9_000_000_000 })),
    await run(call(kv, 'Put', { key: b('lk'), value: b('v'), lease: 102 })),
    await run(call(kv, 'Put', { key: b('lk2'), value: b('v'), lease: 555 })),
    await run(call(lease, 'LeaseTimeToLive', { ID: 102, keys: true })),
    await run(call(lease, 'LeaseTimeToLive', { ID: 555, keys: true })),
    await run(keepAlive(555)),
    await run(call(lease, 'LeaseLeases', {})),
    await run(call(lease, 'LeaseRevoke', { ID: 555 })),
    await run(call(lease, 'LeaseRevoke', { ID: 102 })),
    await run(call(kv, 'Range', { key: b('lk') })),
  ];
}

describe('differential against real etcd 3.4', () => {
  it.skipIf(!etcdBin)('watch: creates, compaction, bad ranges, duplicate ids, cancels, filters, progress', async () => {
    const [mine, theirs] = await Promise.all([watchScript(ets.endpoints[0]!), watchScript(real.endpoints[0]!)]);
    expect(mine).toEqual(theirs);
  });

  it.skipIf(!etcdBin)('lease: grants, limits, unknown ids, keys, revoke', async () => {
    const [mine, theirs] = await Promise.all([leaseScript(ets.endpoints[0]!), leaseScript(real.endpoints[0]!)]);
    expect(mine).toEqual(theirs);
  });
});
