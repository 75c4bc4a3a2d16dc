// Membership changes under a steady write load, with no acknowledged write lost:
// a learner joins, is promoted, an original member (the leader, if it is one)
// is removed, its data wiped, and it is added back as a new member that joins
// from an empty data dir. Afterwards every member holds every acknowledged write
// and all four agree on the hash of the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { call, kvClient, leaderIndex, RunningCluster, startEtsCluster, waitHealthy } from '../support/cluster';
import { freePorts } from '../support/ports';
import { spawnMember, type Spawned } from '../support/process';

interface PbMember { ID: string; name: string; peerURLs: string[] }

let cluster: RunningCluster;
const joined: Spawned[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  cluster = await startEtsCluster(3);
  await sleep(5500); // etcd's health interval before membership changes are allowed
});
afterAll(async () => {
  await Promise.all(joined.map((j) => j.stop('SIGKILL')));
  await cluster?.stop();
});

/**
 * Retries a membership call while the cluster is briefly "unhealthy" or the
 * learner not yet in sync. `done` recognizes the refusal a retry gets when an
 * earlier attempt that failed ambiguously (timed out, leader changed, connection
 * lost) took effect after all: removing the leader, the follower asked may lose
 * that leader before it learns the removal is committed, and answers as etcd
 * does, "request timed out, possibly due to previous leader failure".
 */
async function retrying<T>(fn: () => Promise<T>): Promise<T>;
async function retrying<T>(fn: () => Promise<T>, done: (e: grpc.ServiceError) => boolean): Promise<T | undefined>;
async function retrying<T>(fn: () => Promise<T>, done?: (e: grpc.ServiceError) => boolean): Promise<T | undefined> {
  let ambiguous = false;
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const err = e as grpc.ServiceError;
      if (ambiguous && done?.(err)) return undefined;
      const d = err.details ?? '';
      // Only these may have taken effect: a refusal ("unhealthy cluster", ...) did not.
      if (/timed out|leader changed/.test(d) || err.code === grpc.status.UNAVAILABLE) ambiguous = true;
      const transient = /unhealthy cluster|in sync with leader|no leader|timed out|leader changed/.test(d) || err.code === grpc.status.UNAVAILABLE;
      if (!transient || i >= 120) throw e;
      await sleep(250);
    }
  }
}

/** Starts a member that MemberAdd added: --initial-cluster-state existing, an empty data dir. */
function startJoiner(name: string, clientPort: number, peerPort: number, members: PbMember[], self: string): Spawned {
  const initial = members.map((m) => `${m.ID === self ? name : m.name}=${m.peerURLs[0]}`).join(',');
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const s = spawnMember(
    ['--name', name, '--data-dir', path.join(cluster.dir, `${name}.etcd`), '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', initial, '--initial-cluster-state', 'existing'],
    { cwd: cluster.dir },
  );
  joined.push(s);
  return s;
}

describe('membership churn under load', () => {
  it('keeps every acknowledged write through add, promote, remove and re-add', async () => {
    let endpoints = [...cluster.endpoints];
    const acked = new Map<string, string>();
    let stop = false;
    let attempts = 0;
    const writer = (async () => {
      for (let n = 0; !stop && n < 20_000; n++) {
        attempts++;
        const ep = endpoints[n % endpoints.length]!;
        const key = `w/${n}`;
        try {
          await call(kvClient(ep), 'Put', { key: Buffer.from(key), value: Buffer.from(String(n)) }, 3000);
          acked.set(key, String(n));
        } catch {
          // not acknowledged: it may or may not have been applied, and either is fine
        }
      }
    })();

    const C = () => kvClient(endpoints[0]!, 'Cluster');
    // 1. A learner joins and is promoted.
    const [c4, p4, c1, p1] = await freePorts(4);
    const add4 = await retrying(() => call<{ member: PbMember; members: PbMember[] }>(C(), 'MemberAdd', { peerURLs: [`http://127.0.0.1:${p4}`], isLearner: true }));
    startJoiner('m4', c4!, p4!, add4.members, add4.member.ID);
    await retrying(
      () => call(C(), 'MemberPromote', { ID: add4.member.ID }),
      (e) => e.code === grpc.status.FAILED_PRECONDITION && e.details === 'etcdserver: can only promote a learner member',
    );
    endpoints = [...endpoints, `127.0.0.1:${c4}`];

    // 2. An original member is removed (the leader, to take the hardest path) and exits.
    const victim = await leaderIndex(cluster);
    const list = await call<{ members: PbMember[] }>(C(), 'MemberList', {});
    const victimId = list.members.find((m) => m.name === cluster.members[victim]!.name)!.ID;
    const others = () => endpoints.filter((e) => e !== cluster.endpoints[victim]);
    const exited = new Promise<number | null>((r) => cluster.members[victim]!.proc!.once('exit', (code) => r(code)));
    await retrying(
      () => call(kvClient(others()[0]!, 'Cluster'), 'MemberRemove', { ID: victimId }),
      (e) => e.code === grpc.status.NOT_FOUND && e.details === 'etcdserver: member not found',
    );
    endpoints = others();
    expect(await Promise.race([exited, sleep(15_000).then(() => 'still running')])).toBe(0);

    // 3. Its data wiped, it is added back as a new member and joins from scratch.
    fs.rmSync(path.join(cluster.dir, `${cluster.members[victim]!.name}.etcd`), { recursive: true, force: true });
    const add1 = await retrying(() => call<{ member: PbMember; members: PbMember[] }>(C(), 'MemberAdd', { peerURLs: [`http://127.0.0.1:${p1}`] }));
    startJoiner('m1-again', c1!, p1!, add1.members, add1.member.ID);
    endpoints = [...endpoints, `127.0.0.1:${c1}`];
    await waitHealthy(endpoints);

    await sleep(1000);
    stop = true;
    await writer;
    expect(acked.size).toBeGreaterThan(50);

    // Every member has applied everything: wait for equal revisions, then compare.
    const revs = async () => Promise.all(endpoints.map(async (ep) => (await call<{ header: { revision: string } }>(kvClient(ep), 'Range', { key: Buffer.from('w/'), range_end: Buffer.from('w0'), count_only: true, serializable: true })).header.revision));
    let r = await revs();
    for (let i = 0; i < 100 && new Set(r).size > 1; i++) {
      await sleep(100);
      r = await revs();
    }
    expect(new Set(r).size).toBe(1);
    for (const ep of endpoints) {
      const got = await call<{ kvs: Array<{ key: Buffer; value: Buffer }> }>(kvClient(ep), 'Range', { key: Buffer.from('w/'), range_end: Buffer.from('w0'), serializable: true }, 10_000);
      const have = new Map(got.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
      const missing = [...acked].filter(([k, v]) => have.get(k) !== v);
      expect(missing, `${ep} lost acknowledged writes`).toEqual([]);
    }
    const hashes = await Promise.all(endpoints.map((ep) => call<{ hash: number }>(kvClient(ep, 'Maintenance'), 'HashKV', { revision: r[0] })));
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
    const final = await call<{ members: PbMember[] }>(kvClient(endpoints[0]!, 'Cluster'), 'MemberList', {});
    expect(final.members.map((m) => m.name).sort()).toEqual(['m1-again', 'm4', ...cluster.members.filter((_, i) => i !== victim).map((m) => m.name)].sort());
    process.stdout.write(`membership churn: ${acked.size} of ${attempts} writes acknowledged\n`);
  });
});
