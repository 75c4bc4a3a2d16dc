// The "hasleader" metadata (clientv3.WithRequireLeader): with the leader and a
// quorum gone, a member refuses such calls with "etcdserver: no leader", and
// ends such watch streams after three election timeouts without a leader,
// while calls and streams without the metadata are left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { kvClient, RunningCluster, startEtsCluster } from '../support/cluster';

let cluster: RunningCluster;

beforeAll(async () => {
  cluster = await startEtsCluster(3);
});
afterAll(async () => {
  await cluster?.stop();
});

const requireLeader = (): grpc.Metadata => {
  const md = new grpc.Metadata();
  md.set('hasleader', 'true');
  return md;
};

function unary(c: grpc.Client, method: string, req: object, md: grpc.Metadata): Promise<{ code?: number; details?: string }> {
  return new Promise((resolve) => {
    const fn = (c as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void>)[method]!;
    fn.call(c, req, md, { deadline: Date.now() + 3000 }, (e) => resolve(e ? { code: e.code, details: e.details } : {}));
  });
}

/** Opens a watch; resolves `ended` with the status the stream ends with. */
function watch(c: grpc.Client, md?: grpc.Metadata): { created: Promise<void>; ended: Promise<{ code: number; details: string }>; cancel(): void } {
  const s = (c as unknown as { Watch: (md?: grpc.Metadata) => grpc.ClientDuplexStream<object, { created: boolean }> }).Watch(md);
  let onCreated: () => void = () => undefined;
  const created = new Promise<void>((r) => (onCreated = r));
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    s.on('data', (r: { created: boolean }) => r.created && onCreated());
    s.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
    s.on('status', (st: grpc.StatusObject) => resolve({ code: st.code, details: st.details }));
  });
  s.write({ create_request: { key: Buffer.from('w') } });
  return { created, ended, cancel: () => s.cancel() };
}

describe('hasleader metadata', () => {
  it('refuses calls and ends watches that require a leader once there is none', async () => {
    const ep = cluster.endpoints[0]!;
    const kv = kvClient(ep);
    expect(await unary(kv, 'Range', { key: Buffer.from('a') }, requireLeader())).toEqual({});
    const guarded = watch(kvClient(ep, 'Watch'), requireLeader());
    const plain = watch(kvClient(ep, 'Watch'));
    await Promise.all([guarded.created, plain.created]);

    await Promise.all([cluster.kill(1), cluster.kill(2)]);
    const noLeader = { code: grpc.status.UNAVAILABLE, details: 'etcdserver: no leader' };
    // Within an election timeout or two (check-quorum), the member knows it has no leader.
    let refused: { code?: number; details?: string } = {};
    for (let i = 0; i < 100 && refused.code === undefined; i++) {
      refused = await unary(kv, 'Range', { key: Buffer.from('a'), serializable: true }, requireLeader());
      if (refused.code === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(refused).toEqual(noLeader);
    expect(await unary(kvClient(ep, 'Maintenance'), 'Status', {}, requireLeader())).toEqual(noLeader);
    // The same read without the metadata is served (serializable: from local state).
    expect(await unary(kv, 'Range', { key: Buffer.from('a'), serializable: true }, new grpc.Metadata())).toEqual({});

    const result = await Promise.race([guarded.ended, new Promise((r) => setTimeout(() => r('still open'), 15_000))]);
    expect(result).toEqual(noLeader);
    const plainResult = await Promise.race([plain.ended, new Promise((r) => setTimeout(() => r('still open'), 500))]);
    expect(plainResult).toBe('still open');
    plain.cancel();
    // A new watch that requires a leader is refused at once.
    const late = watch(kvClient(ep, 'Watch'), requireLeader());
    expect(await late.ended).toEqual(noLeader);
  });
});
