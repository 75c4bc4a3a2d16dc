// etcd's limits and failure answers on a real cluster: request size and txn op
// limits from the flags, and a member cut off from its quorum answering with
// etcd's no-leader / timeout errors rather than a stale success.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kvClient, RunningCluster, startEtsCluster } from '../support/cluster';

let cluster: RunningCluster;
beforeAll(async () => {
  cluster = await startEtsCluster(3, ['--max-request-bytes', '4096', '--max-txn-ops', '4', '--election-timeout', '500', '--heartbeat-interval', '50']);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('limits from the flags', () => {
  it('refuses a request over --max-request-bytes and changes nothing', async () => {
    const kv = kvClient(cluster.endpoints[0]!);
    const before = await call<{ header: { revision: string } }>(kv, 'Range', { key: Buffer.from('big') });
    await expect(call(kv, 'Put', { key: Buffer.from('big'), value: Buffer.alloc(5000, 1) })).rejects.toMatchObject({
      code: 3,
      details: 'etcdserver: request is too large',
    });
    const after = await call<{ header: { revision: string }; count: string }>(kv, 'Range', { key: Buffer.from('big') });
    expect(after.header.revision).toBe(before.header.revision);
    expect(after.count).toBe('0');
  });

  it('refuses a txn over --max-txn-ops', async () => {
    const ops = Array.from({ length: 5 }, (_, i) => ({ request_put: { key: Buffer.from(`t${i}`), value: Buffer.from('v') } }));
    await expect(call(kvClient(cluster.endpoints[1]!), 'Txn', { compare: [], success: ops, failure: [] })).rejects.toMatchObject({
      code: 3,
      details: 'etcdserver: too many operations in txn request',
    });
    await call(kvClient(cluster.endpoints[1]!), 'Txn', { compare: [], success: ops.slice(0, 4), failure: [] });
  });
});

describe('a member without a quorum', () => {
  it('answers reads and writes with etcd errors, never a stale success', async () => {
    const kv = kvClient(cluster.endpoints[2]!);
    await call(kv, 'Put', { key: Buffer.from('q'), value: Buffer.from('1') });
    await cluster.kill(0);
    await cluster.kill(1);
    const codes = new Set<string>();
    for (const req of [
      () => call(kv, 'Put', { key: Buffer.from('q'), value: Buffer.from('2') }, 15_000),
      () => call(kv, 'Range', { key: Buffer.from('q') }, 15_000),
    ]) {
      const err = (await req().then(() => undefined, (e: unknown) => e)) as { code: number; details: string } | undefined;
      expect(err, 'a request without a quorum must fail').toBeDefined();
      codes.add(`${err!.code} ${err!.details}`);
    }
    for (const c of codes) {
      expect(c).toMatch(/^14 etcdserver: (no leader|request timed out.*|leader changed)$/);
    }
    const serializable = await call<{ kvs: Array<{ value: Buffer }> }>(kv, 'Range', { key: Buffer.from('q'), serializable: true });
    expect(serializable.kvs[0]!.value.toString()).toBe('1');
  });
});
