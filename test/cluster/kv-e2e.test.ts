// A 3-member etcd-ts cluster used the way applications use etcd: the etcd3 npm
// package and Debian's etcdctl put, get, delete, txn and compact through any
// member, and every response header tells the truth about who answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { call, kvClient, RunningCluster, startEtsCluster, waitHealthy } from '../support/cluster';
import { requireTool } from '../support/tools';

let cluster: RunningCluster;
const clients: Etcd3[] = [];
const etcd = (hosts: string[]): Etcd3 => {
  const c = new Etcd3({ hosts, dialTimeout: 5000 });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  cluster = await startEtsCluster(3);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

interface Header { cluster_id: string; member_id: string; revision: string; raft_term: string }
interface Member { ID: string; name: string }

describe('the etcd3 npm client', () => {
  it('puts, gets, deletes, runs txns and compacts through every member', async () => {
    for (const [i, ep] of cluster.endpoints.entries()) {
      const c = etcd([ep]);
      await c.put(`k${i}`).value(`v${i}`);
      expect(await c.get(`k${i}`).string()).toBe(`v${i}`);
    }
    const all = etcd(cluster.endpoints);
    expect(await all.getAll().prefix('k').strings()).toEqual({ k0: 'v0', k1: 'v1', k2: 'v2' });
    const ok = await all.if('k0', 'Value', '==', 'v0').then(all.put('k0').value('new')).else(all.put('k0').value('other')).commit();
    expect(ok.succeeded).toBe(true);
    const no = await all.if('k0', 'Value', '==', 'v0').then(all.put('k0').value('x')).commit();
    expect(no.succeeded).toBe(false);
    expect(await all.get('k0').string()).toBe('new');
    expect(await all.delete().key('k1').exec()).toMatchObject({ deleted: '1' });
    expect(await all.get('k1').string()).toBeNull();
    const rev = Number((await all.put('c').value('1')).header.revision);
    await all.put('c').value('2');
    const kv = kvClient(cluster.endpoints[1]!);
    await call(kv, 'Compact', { revision: rev, physical: true });
    await expect(call(kv, 'Range', { key: Buffer.from('c'), revision: rev - 1 })).rejects.toMatchObject({
      code: 11,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
  });
});

describe('compaction', () => {
  it('at a revision just written through another member succeeds on every member, as in etcd', async () => {
    // The member asked may not have applied the write yet; only applying the
    // compaction (after the write, in log order) may call it a future revision.
    for (const [i, ep] of cluster.endpoints.entries()) {
      const writer = kvClient(cluster.endpoints[(i + 1) % cluster.endpoints.length]!);
      const put = await call<{ header: Header }>(writer, 'Put', { key: Buffer.from('cf'), value: Buffer.from(String(i)) });
      const rev = Number(put.header.revision);
      const res = await call<{ header: Header }>(kvClient(ep), 'Compact', { revision: rev });
      expect(Number(res.header.revision)).toBeGreaterThanOrEqual(rev);
    }
    const head = await call<{ header: Header }>(kvClient(cluster.endpoints[0]!), 'Range', { key: Buffer.from('cf') });
    await expect(call(kvClient(cluster.endpoints[0]!), 'Compact', { revision: Number(head.header.revision) + 100 })).rejects.toMatchObject({
      code: 11,
      details: 'etcdserver: mvcc: required revision is a future revision',
    });
  });
});

describe('etcdctl', () => {
  const run = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const etcdctl = requireTool('etcdctl')!;
      const p = execFile(etcdctl, [`--endpoints=${cluster.endpoints.join(',')}`, ...args], { env: { ETCDCTL_API: '3' }, timeout: 20_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
      if (input !== undefined) p.stdin!.end(input);
    });

  it('puts, gets, deletes, runs txns and compacts', async () => {
    if (!requireTool('etcdctl')) return;
    expect((await run(['put', 'ctl/a', '1'])).stdout.trim()).toBe('OK');
    expect((await run(['put', 'ctl/b', '2'])).stdout.trim()).toBe('OK');
    expect((await run(['get', 'ctl/', '--prefix'])).stdout.trim().split('\n')).toEqual(['ctl/a', '1', 'ctl/b', '2']);
    const txn = await run(['txn'], 'value("ctl/a") = "1"\n\nput ctl/a 10\n\nput ctl/a 0\n\n');
    expect(txn.stdout.trim().split('\n')).toEqual(['SUCCESS', '', 'OK']);
    expect((await run(['get', 'ctl/a', '--print-value-only'])).stdout.trim()).toBe('10');
    expect((await run(['del', 'ctl/', '--prefix'])).stdout.trim()).toBe('2');
    const status = JSON.parse((await run(['endpoint', 'status', '-w', 'json'])).stdout) as Array<{ Status: { header: { revision: number } } }>;
    const rev = status[0]!.Status.header.revision;
    expect((await run(['compaction', String(rev)])).stdout.trim()).toBe(`compacted revision ${rev}`);
    expect((await run(['endpoint', 'health'])).code).toBe(0);
  });
});

describe('response headers', () => {
  it('name the member that answered, agree on the cluster id, and match Status', async () => {
    const cluster_ids = new Set<string>();
    for (const ep of cluster.endpoints) {
      const put = await call<{ header: Header }>(kvClient(ep), 'Put', { key: Buffer.from('h'), value: Buffer.from(ep) });
      const members = await call<{ header: Header; members: Member[] }>(kvClient(ep, 'Cluster'), 'MemberList', {});
      const status = await call<{ header: Header; raftTerm: string; leader: string }>(kvClient(ep, 'Maintenance'), 'Status', {});
      expect(status.header.member_id).toBe(put.header.member_id);
      expect(members.members.map((m) => m.ID)).toContain(put.header.member_id);
      expect(put.header.raft_term).toBe(status.raftTerm);
      expect(members.header.revision).toBe('0');
      cluster_ids.add(put.header.cluster_id).add(members.header.cluster_id).add(status.header.cluster_id);
    }
    expect(cluster_ids.size).toBe(1);
  });

  it('raft_term grows after the leader is killed, and revisions never go back', async () => {
    const status = await call<{ leader: string; raftTerm: string; header: Header }>(kvClient(cluster.endpoints[0]!, 'Maintenance'), 'Status', {});
    const leaderIdx = await indexOfMember(status.leader);
    const before = Number(status.raftTerm);
    let lastRev = 0;
    const revs: number[] = [];
    const others = cluster.endpoints.filter((_, i) => i !== leaderIdx);
    for (let i = 0; i < 5; i++) revs.push(Number((await call<{ header: Header }>(kvClient(others[i % 2]!), 'Put', { key: Buffer.from('r'), value: Buffer.from(String(i)) })).header.revision));
    await cluster.kill(leaderIdx);
    const deadline = Date.now() + 30_000;
    let after = before;
    for (let attempt = 0; Date.now() < deadline && attempt < 300; attempt++) {
      try {
        const put = await call<{ header: Header }>(kvClient(others[attempt % 2]!), 'Put', { key: Buffer.from('r'), value: Buffer.from('after') }, 2000);
        revs.push(Number(put.header.revision));
        after = Number(put.header.raft_term);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(after).toBeGreaterThan(before);
    for (const r of revs) {
      expect(r).toBeGreaterThan(lastRev);
      lastRev = r;
    }
    cluster.restart(leaderIdx);
    await waitHealthy(cluster.endpoints);
    const r = await call<{ header: Header; kvs: Array<{ value: Buffer }> }>(kvClient(cluster.endpoints[leaderIdx]!), 'Range', { key: Buffer.from('r') });
    expect(r.kvs[0]!.value.toString()).toBe('after');
    expect(Number(r.header.revision)).toBeGreaterThanOrEqual(lastRev);
  });
});

async function indexOfMember(idDecimal: string): Promise<number> {
  for (const [i, ep] of cluster.endpoints.entries()) {
    const s = await call<{ header: Header }>(kvClient(ep, 'Maintenance'), 'Status', {});
    if (s.header.member_id === idDecimal) return i;
  }
  throw new Error(`no member with id ${idDecimal}`);
}
