// Membership changes the way an operator makes them with Debian's etcdctl:
// `member add --learner`, start the new member with the flags etcdctl prints
// (--initial-cluster-state=existing: it asks the cluster for its id), watch it
// catch up and refuse what a learner may not serve, `member promote`, lose the
// old leader, restart the joined member, then `member remove` (the removed
// member exits by itself). Bad requests get etcd's errors and change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { call, kvClient, leaderIndex, RunningCluster, startEtsCluster, waitHealthy, rejection } from '../support/cluster';
import { freePorts } from '../support/ports';
import { spawnMember, type Spawned } from '../support/process';
import { requireTool, runEtcdctl } from '../support/tools';

let cluster: RunningCluster | undefined;
let joiner: Spawned | undefined;

const etcdctl = (endpoints: string[], args: string[]) => runEtcdctl(args, { endpoints, timeoutMs: 30_000 });

/** Runs an etcdctl command again (up to 10 s) while it fails with the one refusal expected for a while. */
async function etcdctlUntil(endpoints: string[], args: string[], transient: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let r = await etcdctl(endpoints, args);
  for (let i = 0; i < 40 && r.code !== 0; i++) {
    expect(r.stderr).toContain(transient);
    await sleep(250);
    r = await etcdctl(endpoints, args);
  }
  return r;
}

/**
 * `member list` until it shows what is wanted (up to 10 s). As in etcd, a
 * promotion or removal is answered once the leader has applied it, and
 * etcdctl may ask a member that has not applied it yet: MemberList is served
 * from the asked member's own view, not through the log.
 */
async function memberListUntil(endpoints: string[], done: (lines: string[]) => boolean): Promise<string[]> {
  let lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    lines = (await etcdctl(endpoints, ['member', 'list'])).stdout.trim().split('\n');
    if (done(lines)) break;
    await sleep(250);
  }
  return lines;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!requireTool('etcdctl')) return;
  cluster = await startEtsCluster(3);
  // As etcd, membership changes are refused ("unhealthy cluster") until every
  // peer has been connected for 5 s.
  await sleep(5500);
});

afterAll(async () => {
  if (joiner) await joiner.stop('SIGKILL');
  await cluster?.stop();
});

describe('etcdctl member add / promote / remove', () => {
  it('answers bad membership requests with etcd\'s errors', async () => {
    if (!cluster) return;
    const c = kvClient(cluster.endpoints[0]!, 'Cluster');
    const peer0 = (await call<{ members: Array<{ peerURLs: string[]; ID: string }> }>(c, 'MemberList', {})).members[0]!;
    const failed = (code: grpc.status, details: string) => ({ code, details });
    expect(await rejection(call(c, 'MemberAdd', { peerURLs: ['127.0.0.1:1'] }))).toEqual(failed(grpc.status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'));
    expect(await rejection(call(c, 'MemberAdd', { peerURLs: ['http://127.0.0.1:1/path'] }))).toEqual(failed(grpc.status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'));
    expect(await rejection(call(c, 'MemberAdd', { peerURLs: peer0.peerURLs }))).toEqual(failed(grpc.status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'));
    expect(await rejection(call(c, 'MemberRemove', { ID: '12345' }))).toEqual(failed(grpc.status.NOT_FOUND, 'etcdserver: member not found'));
    expect(await rejection(call(c, 'MemberUpdate', { ID: '12345', peerURLs: ['http://127.0.0.1:1'] }))).toEqual(failed(grpc.status.NOT_FOUND, 'etcdserver: member not found'));
    expect(await rejection(call(c, 'MemberPromote', { ID: peer0.ID }))).toEqual(failed(grpc.status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'));
    expect((await call<{ members: unknown[] }>(c, 'MemberList', {})).members).toHaveLength(3);
  });

  it('adds a learner that joins, promotes it, survives losing the old leader, and removes it', async () => {
    if (!cluster) return;
    const eps = cluster.endpoints;
    await call(kvClient(eps[0]!), 'Put', { key: Buffer.from('before'), value: Buffer.from('join') });
    const [clientPort, peerPort] = await freePorts(2);
    const peer = `http://127.0.0.1:${peerPort}`;
    const added = await etcdctl(eps, ['member', 'add', 'm4', `--peer-urls=${peer}`, '--learner']);
    expect(added.code, added.stderr).toBe(0);
    const id = /Member\s+([0-9a-f]+) added to cluster/.exec(added.stdout)![1]!;
    const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added.stdout)![1]!;
    expect(added.stdout).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');

    const args = [
      '--name', 'm4',
      '--data-dir', path.join(cluster.dir, 'm4.etcd'),
      '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'existing',
    ];
    joiner = spawnMember(args, { cwd: cluster.dir });
    const m4 = `127.0.0.1:${clientPort}`;
    // The learner catches up and serves serializable reads, and nothing else.
    let value = '';
    for (let i = 0; i < 100 && value !== 'join'; i++) {
      const r = await call<{ kvs: Array<{ value: Buffer }> }>(kvClient(m4), 'Range', { key: Buffer.from('before'), serializable: true }, 1000).catch(() => undefined);
      value = r?.kvs[0]?.value.toString() ?? '';
      if (value !== 'join') await sleep(100);
    }
    expect(value).toBe('join');
    const learnerRefusal = { code: grpc.status.UNAVAILABLE, details: 'etcdserver: rpc not supported for learner' };
    expect(await rejection(call(kvClient(m4), 'Range', { key: Buffer.from('before') }))).toEqual(learnerRefusal);
    expect(await rejection(call(kvClient(m4), 'Put', { key: Buffer.from('x'), value: Buffer.from('y') }))).toEqual(learnerRefusal);
    expect(await rejection(call(kvClient(m4, 'Cluster'), 'MemberList', {}))).toEqual(learnerRefusal);
    expect((await call<{ isLearner: boolean }>(kvClient(m4, 'Maintenance'), 'Status', {})).isLearner).toBe(true);

    // etcdctl prints ids with %16x: one with fewer hex digits is padded with spaces.
    // Promotion, asked of any member (followers pass it to the leader).
    const promoted = await etcdctlUntil(eps, ['member', 'promote', id], 'can only promote a learner member which is in sync with leader');
    expect(promoted.stdout.trim()).toMatch(new RegExp(`^Member\\s+${id} promoted in cluster\\s+[0-9a-f]+$`));
    const m4Line = `${id}, started, m4, ${peer}, http://127.0.0.1:${clientPort}, false`;
    const list = await memberListUntil(eps, (lines) => lines.includes(m4Line));
    expect(list).toHaveLength(4);
    expect(list.find((l) => l.startsWith(id))).toBe(m4Line);

    // Four voters: losing the old leader leaves a quorum of three, m4 among them.
    const old = await leaderIndex(cluster);
    await cluster.kill(old);
    const alive = [...eps.filter((_, i) => i !== old), m4];
    await waitHealthy(alive);
    await call(kvClient(m4), 'Put', { key: Buffer.from('after'), value: Buffer.from('promotion') });
    cluster.restart(old);
    await waitHealthy(eps);

    // The joined member restarts from its data dir with the same flags.
    await joiner.stop('SIGTERM');
    joiner = spawnMember(args, { cwd: cluster.dir });
    await waitHealthy([m4]);
    const got = await call<{ kvs: Array<{ value: Buffer }> }>(kvClient(m4), 'Range', { key: Buffer.from('after') });
    expect(got.kvs[0]!.value.toString()).toBe('promotion');

    // Removed, it stops by itself; the others carry on. Until every restarted
    // member has been connected for etcd's health interval (5 s), a removal
    // that needs them for a quorum is refused as etcd refuses it.
    const removed = await etcdctlUntil(eps, ['member', 'remove', id], 'etcdserver: unhealthy cluster');
    expect(removed.stdout.trim()).toMatch(new RegExp(`^Member\\s+${id} removed from cluster\\s+[0-9a-f]+$`));
    const exit = await Promise.race([joiner.exited, sleep(15_000).then(() => 'still running')]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(joiner.stdout.join('\n')).toContain('this member has been permanently removed from the cluster');
    joiner = undefined;
    expect(await memberListUntil(eps, (lines) => lines.length === 3)).toHaveLength(3);
    expect((await etcdctl(eps, ['put', 'after-remove', 'ok'])).stdout.trim()).toBe('OK');
  });

  it('removes the leader when a follower asks, answers that client, and the old leader exits', async () => {
    if (!cluster) return;
    const c = cluster;
    const old = await leaderIndex(c);
    const follower = c.endpoints.find((_, i) => i !== old)!;
    const C = kvClient(follower, 'Cluster');
    const list = await call<{ members: Array<{ ID: string; name: string }> }>(C, 'MemberList', {});
    const id = list.members.find((m) => m.name === c.members[old]!.name)!.ID;
    const exited = new Promise<number | null>((r) => c.members[old]!.proc!.once('exit', (code) => r(code)));
    // The removed leader commits its own removal and steps down; the follower that
    // asked answers once it has applied the removal too.
    const removed = await etcdctlUntil([follower], ['member', 'remove', BigInt(id).toString(16)], 'etcdserver: unhealthy cluster');
    expect(removed.code, removed.stderr).toBe(0);
    expect(await Promise.race([exited, sleep(15_000).then(() => 'still running')])).toBe(0);
    const rest = c.endpoints.filter((_, i) => i !== old);
    await waitHealthy(rest);
    expect(await memberListUntil(rest, (lines) => lines.length === 2)).toHaveLength(2);
  });
});
