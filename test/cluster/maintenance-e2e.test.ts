// The Maintenance calls an operator makes with Debian's etcdctl against etcd-ts:
// move-leader, defrag, alarm list / disarm, and the backend quota that raises
// the NOSPACE alarm by itself (and keeps it across a restart).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { call, kvClient, leaderIndex, RunningCluster, startEtsCluster, waitHealthy, rejection } from '../support/cluster';
import { requireTool, runEtcdctl } from '../support/tools';

interface Header { member_id: string }
interface Status { header: Header; leader: string; dbSize: string; dbSizeInUse: string; errors: string[] }

const hex = (dec: string): string => BigInt(dec).toString(16);
const status = (ep: string) => call<Status>(kvClient(ep, 'Maintenance'), 'Status', {});
const alarm = (ep: string, action: string, memberID: string, kind: string) =>
  call<{ alarms: Array<{ memberID: string; alarm: string }> }>(kvClient(ep, 'Maintenance'), 'Alarm', { action, memberID, alarm: kind });

const etcdctl = (endpoints: string[], args: string[]) => runEtcdctl(args, { endpoints, timeoutMs: 30_000 });

describe('a 3-member cluster', () => {
  let cluster: RunningCluster;
  beforeAll(async () => {
    cluster = await startEtsCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('moves leadership where etcdctl move-leader asks, and refuses as etcd does', async () => {
    if (!requireTool('etcdctl')) return;
    const li = await leaderIndex(cluster);
    const fi = (li + 1) % 3;
    const from = await status(cluster.endpoints[li]!);
    const to = await status(cluster.endpoints[fi]!);
    // Only the leader takes the call; a target that is no member is refused.
    expect(await rejection(call(kvClient(cluster.endpoints[fi]!, 'Maintenance'), 'MoveLeader', { targetID: to.header.member_id }))).toEqual({
      code: grpc.status.FAILED_PRECONDITION,
      details: 'etcdserver: not leader',
    });
    expect(await rejection(call(kvClient(cluster.endpoints[li]!, 'Maintenance'), 'MoveLeader', { targetID: '12345' }))).toEqual({
      code: grpc.status.FAILED_PRECONDITION,
      details: 'etcdserver: bad leader transferee',
    });
    const r = await etcdctl(cluster.endpoints, ['move-leader', hex(to.header.member_id)]);
    expect(r.stdout.trim()).toBe(`Leadership transferred from ${hex(from.header.member_id)} to ${hex(to.header.member_id)}`);
    // Every member follows the new leader, and writes go on.
    for (const ep of cluster.endpoints) {
      for (let i = 0; i < 50 && (await status(ep)).leader !== to.header.member_id; i++) await new Promise((res) => setTimeout(res, 100));
      expect((await status(ep)).leader).toBe(to.header.member_id);
    }
    expect((await etcdctl(cluster.endpoints, ['put', 'after-move', 'x'])).stdout.trim()).toBe('OK');
  });

  it('defrag shrinks every member\'s database once compaction left garbage', async () => {
    if (!requireTool('etcdctl')) return;
    const kv = kvClient(cluster.endpoints[0]!);
    const value = Buffer.alloc(2000, 'v');
    for (let i = 0; i < 300; i++) await call(kv, 'Put', { key: Buffer.from(`defrag/${i}`), value });
    const del = await call<{ header: { revision: string } }>(kv, 'DeleteRange', { key: Buffer.from('defrag/'), range_end: Buffer.from('defrag0') });
    await call(kv, 'Compact', { revision: del.header.revision, physical: true });
    await waitHealthy(cluster.endpoints);
    const before = await Promise.all(cluster.endpoints.map(status));
    const r = await etcdctl(cluster.endpoints, ['defrag']);
    expect(r.stdout.trim().split('\n')).toEqual(cluster.endpoints.map((ep) => `Finished defragmenting etcd member[${ep}]`));
    const after = await Promise.all(cluster.endpoints.map(status));
    for (const [i, s] of after.entries()) {
      // 600 kB of values were written and deleted: well over half of it must go.
      expect(Number(s.dbSize)).toBeLessThan(Number(before[i]!.dbSize) / 2);
      expect(Number(s.dbSizeInUse)).toBeGreaterThan(0);
    }
  });

  it('lists an alarm on every member, refuses puts while NOSPACE is raised, and disarms', async () => {
    if (!requireTool('etcdctl')) return;
    const id = (await status(cluster.endpoints[1]!)).header.member_id;
    expect((await alarm(cluster.endpoints[1]!, 'ACTIVATE', id, 'NOSPACE')).alarms).toEqual([{ memberID: id, alarm: 'NOSPACE' }]);
    expect((await etcdctl(cluster.endpoints, ['alarm', 'list'])).stdout.trim()).toBe(`memberID:${id} alarm:NOSPACE`);
    for (const ep of cluster.endpoints) {
      for (let i = 0; i < 50 && (await status(ep)).errors.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
      expect((await status(ep)).errors).toEqual([`memberID:${id} alarm:NOSPACE `]);
    }
    const put = await etcdctl(cluster.endpoints, ['put', 'alarmed', 'x']);
    expect(put.code).toBe(1);
    expect(put.stderr).toContain('etcdserver: mvcc: database space exceeded');
    // Reads and deletes go on, so space can be freed.
    expect((await etcdctl(cluster.endpoints, ['get', 'after-move', '--print-value-only'])).stdout.trim()).toBe('x');
    expect((await etcdctl(cluster.endpoints, ['del', 'after-move'])).stdout.trim()).toBe('1');
    expect((await etcdctl(cluster.endpoints, ['alarm', 'disarm'])).stdout.trim()).toBe(`memberID:${id} alarm:NOSPACE`);
    expect((await etcdctl(cluster.endpoints, ['alarm', 'list'])).stdout.trim()).toBe('');
    expect((await etcdctl(cluster.endpoints, ['put', 'alarmed', 'x'])).stdout.trim()).toBe('OK');
  });
});

describe('a member with a small --quota-backend-bytes', () => {
  let cluster: RunningCluster;
  beforeAll(async () => {
    cluster = await startEtsCluster(1, ['--quota-backend-bytes', '65536']);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('raises NOSPACE itself when a put would not fit, keeps it across a restart, and takes puts again once disarmed', async () => {
    const ep = cluster.endpoints[0]!;
    const kv = kvClient(ep);
    const value = Buffer.alloc(1024, 'q');
    let refused: { code?: number; details?: string } = {};
    let stored = 0;
    for (; stored < 200; stored++) {
      refused = await rejection(call(kv, 'Put', { key: Buffer.from(`q/${stored}`), value }));
      if (refused.code !== undefined) break;
    }
    expect(refused).toEqual({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'etcdserver: mvcc: database space exceeded' });
    // 64 KiB over ~1.3 kB per put (value, key, 256 bytes of metadata): a few dozen fit.
    expect(stored).toBeGreaterThan(20);
    expect(stored).toBeLessThan(64);
    const id = (await status(ep)).header.member_id;
    expect((await alarm(ep, 'GET', '0', 'NONE')).alarms).toEqual([{ memberID: id, alarm: 'NOSPACE' }]);
    expect(await rejection(call(kvClient(ep, 'Lease'), 'LeaseGrant', { TTL: 60 }))).toEqual({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: 'etcdserver: mvcc: database space exceeded',
    });

    await cluster.kill(0, 'SIGTERM');
    cluster.restart(0);
    await waitHealthy([ep]);
    expect((await alarm(ep, 'GET', '0', 'NOSPACE')).alarms).toEqual([{ memberID: id, alarm: 'NOSPACE' }]);

    // Freeing space is not enough while the alarm is up: etcd's order is compact, then disarm.
    const kv2 = kvClient(ep);
    const del = await call<{ header: { revision: string } }>(kv2, 'DeleteRange', { key: Buffer.from('q/'), range_end: Buffer.from('q0') });
    await call(kv2, 'Compact', { revision: del.header.revision, physical: true });
    expect((await rejection(call(kv2, 'Put', { key: Buffer.from('small'), value: Buffer.from('1') }))).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect((await alarm(ep, 'DEACTIVATE', id, 'NOSPACE')).alarms).toEqual([{ memberID: id, alarm: 'NOSPACE' }]);
    await call(kv2, 'Put', { key: Buffer.from('small'), value: Buffer.from('1') });
    expect((await alarm(ep, 'GET', '0', 'NONE')).alarms).toEqual([]);
  });
});
