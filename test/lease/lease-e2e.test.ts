// Leases on a 3-member etcd-ts cluster: etcd's answers for good and bad
// requests, expiry deleting keys (watchers see one revision of deletes),
// keepalives through a follower (forwarded to the leader), a kept-alive key
// surviving a leader kill, and etcdctl lease/lock/elect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import type * as grpc from '@grpc/grpc-js';
import { call, kvClient, RunningCluster, startEtsCluster, waitHealthy } from '../support/cluster';
import { RawWatch, sleep } from '../support/watch-client';
import { requireTool } from '../support/tools';

let cluster: RunningCluster;
const b = (s: string): Buffer => Buffer.from(s);
const etcdctl = requireTool('etcdctl');

beforeAll(async () => {
  cluster = await startEtsCluster(3);
});
afterAll(async () => {
  await cluster?.stop();
});

const lease = (i: number) => kvClient(cluster.endpoints[i]!, 'Lease');
const kv = (i: number) => kvClient(cluster.endpoints[i]!, 'KV');

async function leaderIndex(alive: number[] = [0, 1, 2]): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ids = await Promise.all(alive.map((i) => call<{ leader: string; header: { member_id: string } }>(kvClient(cluster.endpoints[i]!, 'Maintenance'), 'Status', {}).catch(() => undefined)));
    const lead = ids.find((s) => s && s.leader !== '0')?.leader;
    const idx = alive.find((_, j) => ids[j]?.header.member_id === lead);
    if (idx !== undefined) return idx;
    await sleep(100);
  }
  throw new Error('no leader');
}

/** One keepalive on a fresh stream: the TTL the server answers. */
function keepAliveOnce(i: number, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = lease(i) as unknown as { LeaseKeepAlive: (o: grpc.CallOptions) => grpc.ClientDuplexStream<object, { TTL: string }> };
    const s = c.LeaseKeepAlive({ deadline: Date.now() + 10_000 });
    s.on('data', (r: { TTL: string }) => {
      resolve(Number(r.TTL));
      s.cancel();
    });
    s.on('error', (e: grpc.ServiceError) => {
      if (e.code !== 1) reject(e);
    });
    s.write({ ID: id });
  });
}

describe('lease requests', () => {
  it('grant, TimeToLive with keys, list and revoke, through any member', async () => {
    const g = await call<{ ID: string; TTL: string }>(lease(1), 'LeaseGrant', { TTL: 60 });
    expect(BigInt(g.ID)).toBeGreaterThan(0n);
    expect(g.TTL).toBe('60');
    await call(kv(2), 'Put', { key: b('l/a'), value: b('1'), lease: g.ID });
    await call(kv(0), 'Put', { key: b('l/b'), value: b('1'), lease: g.ID });
    for (const i of [0, 1, 2]) {
      const t = await call<{ TTL: string; grantedTTL: string; keys: Buffer[] }>(lease(i), 'LeaseTimeToLive', { ID: g.ID, keys: true });
      expect(t.grantedTTL).toBe('60');
      expect(Number(t.TTL)).toBeGreaterThan(50);
      expect(t.keys.map(String)).toEqual(['l/a', 'l/b']);
      const l = await call<{ leases: Array<{ ID: string }> }>(lease(i), 'LeaseLeases', {});
      expect(l.leases.map((x) => x.ID)).toContain(g.ID);
    }
    const custom = await call<{ ID: string; TTL: string }>(lease(0), 'LeaseGrant', { TTL: 1, ID: 4242 });
    expect(custom).toMatchObject({ ID: '4242', TTL: '2' }); // raised to the minimum TTL
    const before = await call<{ header: { revision: string } }>(kv(0), 'Range', { key: b('l/') });
    const rv = await call<{ header: { revision: string } }>(lease(2), 'LeaseRevoke', { ID: g.ID });
    expect(Number(rv.header.revision)).toBe(Number(before.header.revision) + 1); // both keys in one revision
    const left = await call<{ kvs: unknown[] }>(kv(1), 'Range', { key: b('l/'), range_end: b('l0') });
    expect(left.kvs).toEqual([]);
    await call(lease(0), 'LeaseRevoke', { ID: '4242' });
  });

  it('bad input gets etcd errors and changes nothing', async () => {
    const rev0 = (await call<{ header: { revision: string } }>(kv(0), 'Range', { key: b('x') })).header.revision;
    await expect(call(lease(0), 'LeaseRevoke', { ID: 999 })).rejects.toMatchObject({ code: 5, details: 'etcdserver: requested lease not found' });
    await expect(call(kv(1), 'Put', { key: b('x'), value: b('1'), lease: 999 })).rejects.toMatchObject({ code: 5, details: 'etcdserver: requested lease not found' });
    await expect(call(lease(1), 'LeaseGrant', { TTL: 9_000_000_001 })).rejects.toMatchObject({ code: 11, details: 'etcdserver: too large lease TTL' });
    const g = await call<{ ID: string }>(lease(0), 'LeaseGrant', { TTL: 30, ID: 77 });
    await expect(call(lease(2), 'LeaseGrant', { TTL: 30, ID: g.ID })).rejects.toMatchObject({ code: 9, details: 'etcdserver: lease already exists' });
    expect(await call(lease(1), 'LeaseTimeToLive', { ID: 999 })).toMatchObject({ ID: '999', TTL: '-1' });
    expect(await keepAliveOnce(0, '999')).toBe(0);
    expect(await keepAliveOnce(2, '999')).toBe(0);
    await call(lease(0), 'LeaseRevoke', { ID: 77 });
    const rev1 = (await call<{ header: { revision: string } }>(kv(0), 'Range', { key: b('x') })).header.revision;
    expect(rev1).toBe(rev0);
  });
});

describe('expiry', () => {
  it('an expired lease deletes its keys; a watcher sees the deletes in one response', async () => {
    const g = await call<{ ID: string }>(lease(0), 'LeaseGrant', { TTL: 2 });
    await call(kv(1), 'Put', { key: b('exp/a'), value: b('1'), lease: g.ID });
    await call(kv(1), 'Put', { key: b('exp/b'), value: b('1'), lease: g.ID });
    const last = await call<{ header: { revision: string } }>(kv(1), 'Put', { key: b('exp/keep'), value: b('1') });
    const w = new RawWatch(cluster.endpoints[2]!);
    try {
      // From just after the puts: member 2 may not have applied them yet, and a
      // watch without a start revision begins at the member's own revision.
      w.create({ key: b('exp/'), range_end: b('exp0'), start_revision: String(Number(last.header.revision) + 1) });
      await w.waitFor(() => w.events().length === 2, 20_000);
      const del = w.replies.filter((r) => r.events.length > 0);
      expect(del).toHaveLength(1);
      expect(del[0]!.events.map((e) => [e.type, String(e.kv.key)])).toEqual([['DELETE', 'exp/a'], ['DELETE', 'exp/b']]);
      expect(await call(lease(1), 'LeaseTimeToLive', { ID: g.ID })).toMatchObject({ TTL: '-1' });
      const left = await call<{ kvs: Array<{ key: Buffer }> }>(kv(0), 'Range', { key: b('exp/'), range_end: b('exp0') });
      expect(left.kvs.map((k) => String(k.key))).toEqual(['exp/keep']);
    } finally {
      w.close();
    }
  });

  it('keepalives through a follower keep a lease alive past its TTL', async () => {
    const lead = await leaderIndex();
    const follower = [0, 1, 2].find((i) => i !== lead)!;
    const g = await call<{ ID: string }>(lease(follower), 'LeaseGrant', { TTL: 3 });
    await call(kv(follower), 'Put', { key: b('ka/k'), value: b('1'), lease: g.ID });
    for (let i = 0; i < 8; i++) {
      expect(await keepAliveOnce(follower, g.ID)).toBe(3);
      await sleep(700);
    }
    const t = await call<{ TTL: string }>(lease(follower), 'LeaseTimeToLive', { ID: g.ID });
    expect(Number(t.TTL)).toBeGreaterThan(0);
    expect((await call<{ kvs: unknown[] }>(kv(lead), 'Range', { key: b('ka/k') })).kvs).toHaveLength(1);
    await call(lease(lead), 'LeaseRevoke', { ID: g.ID });
  });
});

describe('leader kill', () => {
  it('a key whose lease is kept alive through a leader kill is never deleted; expiry still works after', async () => {
    const lead = await leaderIndex();
    const others = [0, 1, 2].filter((i) => i !== lead);
    const g = await call<{ ID: string }>(lease(others[0]!), 'LeaseGrant', { TTL: 4 });
    const put = await call<{ header: { revision: string } }>(kv(others[0]!), 'Put', { key: b('safe/k'), value: b('v'), lease: g.ID });
    const w = new RawWatch(cluster.endpoints[others[1]!]!);
    // From the revision after the put: the watched member may not have applied the
    // put yet, and a watch without a start revision starts from its own revision.
    w.create({ key: b('safe/k'), start_revision: String(Number(put.header.revision) + 1) });
    let keeping = true;
    const loop = (async () => {
      for (let i = 0; i < 200 && keeping; i++) {
        // Either survivor may be asked; failures during the election are retried.
        await keepAliveOnce(others[i % 2]!, g.ID).catch(() => undefined);
        await sleep(500);
      }
    })();
    try {
      await cluster.kill(lead);
      const newLead = await leaderIndex(others);
      expect(others).toContain(newLead);
      await sleep(10_000); // 2.5 TTLs under the new leader
      keeping = false;
      await loop;
      const got = await call<{ kvs: unknown[] }>(kv(others[1]!), 'Range', { key: b('safe/k') });
      expect(got.kvs).toHaveLength(1);
      expect(w.events()).toEqual([]);
      // Without keepalives the new leader expires it.
      await w.waitFor(() => w.events().length === 1, 20_000);
      expect(w.events()[0]![0]).toBe('DELETE');
    } finally {
      keeping = false;
      w.close();
      cluster.restart(lead);
      await waitHealthy(cluster.endpoints);
    }
  }, 90_000);
});

describe('etcdctl', () => {
  const run = (args: string[], timeout = 15_000) =>
    new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
      execFile(etcdctl!, [`--endpoints=${cluster.endpoints.join(',')}`, ...args], { timeout }, (e, stdout, stderr) =>
        resolve({ stdout, stderr, code: e ? ((e as { code?: number }).code ?? 1) : 0 }),
      );
    });

  it.skipIf(!etcdctl)('lease grant / put --lease / timetolive --keys / list / keep-alive --once / revoke', async () => {
    const g = await run(['lease', 'grant', '100']);
    const id = /lease ([0-9a-f]+) granted with TTL\(100s\)/.exec(g.stdout)![1]!;
    expect((await run(['put', '--lease=' + id, 'ec/k', 'v'])).stdout).toBe('OK\n');
    expect((await run(['lease', 'timetolive', id, '--keys'])).stdout).toMatch(new RegExp(`lease ${id} granted with TTL\\(100s\\), remaining\\(\\d+s\\), attached keys\\(\\[ec/k\\]\\)`));
    expect((await run(['lease', 'list'])).stdout).toContain(id);
    expect((await run(['lease', 'keep-alive', '--once', id])).stdout).toBe(`lease ${id} keepalived with TTL(100)\n`);
    expect((await run(['lease', 'revoke', id])).stdout).toBe(`lease ${id} revoked\n`);
    expect((await run(['get', 'ec/k'])).stdout).toBe('');
    expect((await run(['lease', 'timetolive', id])).stdout).toBe(`lease ${id} already expired\n`);
    const bad = await run(['lease', 'revoke', '1234']);
    expect(bad.stderr).toContain('etcdserver: requested lease not found');
  });

  it.skipIf(!etcdctl)('lock: the second contender gets the lock after the first releases it', async () => {
    const first = spawn(etcdctl!, [`--endpoints=${cluster.endpoints.join(',')}`, 'lock', 'mylock', '--', 'sh', '-c', 'echo first-start; sleep 2; echo first-end']);
    let out = '';
    first.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const firstExit = new Promise((r) => first.once('exit', r));
    try {
      for (let i = 0; i < 150 && !out.includes('first-start'); i++) await sleep(100);
      expect(out).toBe('first-start\n');
      const second = await run(['lock', 'mylock', '--', 'sh', '-c', 'echo second']);
      // The second holder ran only after the first released.
      expect(out).toBe('first-start\nfirst-end\n');
      expect(second.stdout).toBe('second\n');
      await firstExit;
    } finally {
      first.kill('SIGKILL');
    }
  });

  it.skipIf(!etcdctl)('elect: the second candidate leads after the first resigns', async () => {
    const spawnElect = (name: string) => {
      const p = spawn(etcdctl!, [`--endpoints=${cluster.endpoints.join(',')}`, 'elect', 'myelection', name]);
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return { p, out: () => out };
    };
    const one = spawnElect('one');
    const two = spawnElect('two');
    try {
      for (let i = 0; i < 100 && !one.out().includes('one') && !two.out().includes('two'); i++) await sleep(100);
      const [leader, other, word] = one.out().includes('one') ? [one, two, 'two'] : [two, one, 'one'];
      await sleep(1000);
      expect(other.out()).toBe('');
      const exited = new Promise((r) => leader.p.once('exit', r));
      leader.p.kill('SIGINT'); // etcdctl resigns on interrupt
      await exited;
      for (let i = 0; i < 100 && !other.out().includes(word); i++) await sleep(100);
      expect(other.out()).toMatch(new RegExp(`myelection/[0-9a-f]+\\n${word}\\n`));
    } finally {
      one.p.kill('SIGKILL');
      two.p.kill('SIGKILL');
    }
  });
});

describe('restart', () => {
  it('leases and their attached keys survive every member being killed and restarted', async () => {
    const g = await call<{ ID: string }>(lease(0), 'LeaseGrant', { TTL: 600 });
    await call(kv(1), 'Put', { key: b('rs/k'), value: b('v'), lease: g.ID });
    for (const i of [0, 1, 2]) await cluster.kill(i);
    for (const i of [0, 1, 2]) cluster.restart(i);
    await waitHealthy(cluster.endpoints);
    for (const i of [0, 1, 2]) {
      const l = await call<{ leases: Array<{ ID: string }> }>(lease(i), 'LeaseLeases', {});
      expect(l.leases.map((x) => x.ID)).toContain(g.ID);
    }
    const t = await call<{ grantedTTL: string; keys: Buffer[] }>(lease(2), 'LeaseTimeToLive', { ID: g.ID, keys: true });
    expect(t.grantedTTL).toBe('600');
    expect(t.keys.map(String)).toEqual(['rs/k']);
    await call(lease(1), 'LeaseRevoke', { ID: g.ID });
    expect((await call<{ kvs: unknown[] }>(kv(0), 'Range', { key: b('rs/k') })).kvs).toEqual([]);
  }, 90_000);
});
