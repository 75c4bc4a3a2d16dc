// Watch on a 3-member etcd-ts cluster through real clients: the etcd3 npm
// package, raw gRPC streams and etcdctl. Events arrive once, in order, whole
// revisions at a time, on the leader and on followers alike; resuming from a
// revision fills exactly the gap; bad requests get etcd 3.4's answers and the
// stream stays usable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { call, kvClient, RunningCluster, startEtsCluster } from '../support/cluster';
import { RawWatch, sleep } from '../support/watch-client';
import { requireTool } from '../support/tools';

let cluster: RunningCluster;
let client: Etcd3;
const watches: RawWatch[] = [];
const raw = (ep: string): RawWatch => {
  const w = new RawWatch(ep);
  watches.push(w);
  return w;
};
const b = (s: string): Buffer => Buffer.from(s);

beforeAll(async () => {
  cluster = await startEtsCluster(3);
  client = new Etcd3({ hosts: cluster.endpoints, dialTimeout: 5000 });
});
afterAll(async () => {
  for (const w of watches) w.close();
  client?.close();
  await cluster?.stop();
});

async function leaderIndex(): Promise<number> {
  const m = kvClient(cluster.endpoints[0]!, 'Maintenance');
  const st = await call<{ leader: string; header: { member_id: string } }>(m, 'Status', {});
  for (const [i, ep] of cluster.endpoints.entries()) {
    const s = await call<{ header: { member_id: string } }>(kvClient(ep, 'Maintenance'), 'Status', {});
    if (s.header.member_id === st.leader) return i;
  }
  throw new Error('no leader found');
}

describe('watch through the etcd3 npm client', () => {
  it('sees puts, deletes and a txn on a prefix, in order, the txn in one response', async () => {
    const seen: Array<{ rev: string; events: Array<[string, string]> }> = [];
    const w = await client.watch().prefix('p/').create();
    w.on('data', (res) => seen.push({ rev: res.header.revision, events: res.events.map((e) => [e.type, e.kv.key.toString()]) }));
    await client.put('p/a').value('1');
    await client.put('other').value('x');
    await client.put('p/b').value('2');
    await client.delete().key('p/a');
    await client.if('p/b', 'Value', '==', '2').then(client.put('p/c').value('3'), client.delete().key('p/b')).commit();
    for (let i = 0; i < 500 && seen.length < 4; i++) await sleep(10);
    await w.cancel();
    expect(seen.map((s) => s.events)).toEqual([
      [['Put', 'p/a']],
      [['Put', 'p/b']],
      [['Delete', 'p/a']],
      [['Put', 'p/c'], ['Delete', 'p/b']],
    ]);
  });
});

describe('raw watch streams', () => {
  it('resume from the next revision after a disconnect: no gap, no duplicate', async () => {
    const start = Number((await client.put('r/seed').value('0')).header.revision);
    const w1 = raw(cluster.endpoints[1]!);
    w1.create({ key: b('r/'), range_end: b('r0'), start_revision: start });
    await w1.waitFor(() => w1.events().length >= 1);
    for (let i = 1; i <= 20; i++) await client.put(`r/${i % 3}`).value(`${i}`);
    await w1.waitFor(() => w1.events().length >= 6);
    w1.close();
    const got = w1.events();
    for (let i = 21; i <= 40; i++) await client.put(`r/${i % 3}`).value(`${i}`);
    const last = got[got.length - 1]![2];
    const w2 = raw(cluster.endpoints[2]!);
    w2.create({ key: b('r/'), range_end: b('r0'), start_revision: last + 1 });
    await w2.waitFor(() => w2.events().length + got.length >= 41);
    const all = [...got, ...w2.events()];
    expect(all.map((e) => e[3])).toEqual(Array.from({ length: 41 }, (_, i) => `${i}`));
    const revs = all.map((e) => e[2]);
    expect(new Set(revs).size).toBe(revs.length);
    expect([...revs].sort((x, y) => x - y)).toEqual(revs);
  });

  it('followers and the leader deliver the same events in the same order', async () => {
    const lead = await leaderIndex();
    const ws = cluster.endpoints.map((ep) => {
      const w = raw(ep);
      w.create({ key: b('f/'), range_end: b('f0'), prev_kv: true });
      return w;
    });
    for (const w of ws) await w.waitReplies(1);
    // Writers on every member at once.
    await Promise.all(
      cluster.endpoints.map(async (ep, m) => {
        const c = new Etcd3({ hosts: [ep] });
        try {
          for (let i = 0; i < 15; i++) {
            if (i % 5 === 4) await c.delete().key(`f/${m}`);
            else await c.put(`f/${m}`).value(`${m}-${i}`);
          }
          await c.if(`f/${m}`, 'Version', '>', 0).then(c.put(`f/t${m}`).value('t'), c.delete().key(`f/${m}`)).commit();
        } finally {
          c.close();
        }
      }),
    );
    for (const w of ws) await w.waitFor(() => w.events().length >= 45);
    await sleep(200);
    const shape = (w: RawWatch) => w.replies.filter((r) => r.events.length > 0).map((r) => r.events.map((e) => [e.type, e.kv.key.toString(), e.kv.mod_revision, e.kv.value.toString(), e.prev_kv?.value.toString() ?? null]));
    expect(ws[lead]!.events()).toHaveLength(45);
    for (const w of ws) expect(shape(w)).toEqual(shape(ws[lead]!));
  });

  it("answers bad requests as etcd 3.4 and keeps the stream usable", async () => {
    const w = raw(cluster.endpoints[0]!);
    w.create({ key: b('z'), range_end: b('a') });
    await w.waitReplies(1);
    expect(w.replies[0]).toMatchObject({ watch_id: '-1', created: true, canceled: true, cancel_reason: 'mvcc: watcher range is empty' });
    w.create({ key: b('bad/x'), watch_id: 7 });
    w.create({ key: b('bad/x'), watch_id: 7 });
    await w.waitReplies(3);
    expect(w.replies[1]).toMatchObject({ watch_id: '7', created: true, canceled: false });
    expect(w.replies[2]).toMatchObject({ watch_id: '-1', created: true, canceled: true, cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' });
    w.cancel(12345); // unknown: no reply in 3.4
    w.progress();
    await w.waitReplies(4);
    expect(w.replies[3]).toMatchObject({ watch_id: '-1', created: false, canceled: false, events: [] });
    expect(Number(w.replies[3]!.header.revision)).toBeGreaterThan(0);
    await client.put('bad/x').value('still here');
    await w.waitFor(() => w.events(7).length === 1);
    w.cancel(7);
    await w.waitFor(() => w.replies.some((r) => r.canceled && r.watch_id === '7'));
    expect(w.error).toBeUndefined();
  });

  it('a watch from a compacted revision is cancelled with compact_revision and no reason', async () => {
    const r1 = Number((await client.put('c/k').value('1')).header.revision);
    const r2 = Number((await client.put('c/k').value('2')).header.revision);
    await call(kvClient(cluster.endpoints[0]!, 'KV'), 'Compact', { revision: r2 });
    // The member that answered the compaction has applied it; others may not have yet.
    const w = raw(cluster.endpoints[0]!);
    w.create({ key: b('c/k'), start_revision: r1 });
    await w.waitReplies(2);
    expect(w.replies[0]).toMatchObject({ created: true, canceled: false, watch_id: '0' });
    expect(w.replies[1]).toMatchObject({ canceled: true, watch_id: '0', compact_revision: String(r2), cancel_reason: '' });
  });

  it('a consumer that stops reading gets every event once, in order, when it resumes', async () => {
    const w = raw(cluster.endpoints[1]!);
    w.create({ key: b('slow/'), range_end: b('slow0') });
    await w.waitReplies(1);
    w.pause();
    const big = 'x'.repeat(32 * 1024);
    const N = 200;
    for (let i = 0; i < N; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => client.put(`slow/${(i + j) % 7}`).value(`${i + j}:${big}`)));
    }
    await sleep(300);
    w.resume();
    await w.waitFor(() => w.events().length >= N, 30_000);
    await sleep(200);
    const revs = w.events().map((e) => e[2]);
    expect(revs).toHaveLength(N);
    expect(new Set(revs).size).toBe(N);
    expect([...revs].sort((x, y) => x - y)).toEqual(revs);
  });
});

describe('etcdctl watch', () => {
  const etcdctl = requireTool('etcdctl');
  it.skipIf(!etcdctl)('--prefix --rev --prev-kv prints history then live events', async () => {
    const rev = Number((await client.put('e/a').value('1')).header.revision);
    await client.put('e/a').value('2');
    const out = await new Promise<string>((resolve) => {
      const p = execFile(etcdctl!, [`--endpoints=${cluster.endpoints[2]}`, 'watch', '--prefix', 'e/', `--rev=${rev}`, '--prev-kv'], { timeout: 4000 }, (_e, stdout) => resolve(stdout));
      void p;
      setTimeout(() => void client.delete().key('e/a').exec(), 1500);
    });
    expect(out.split('\n').filter((l) => l !== '')).toEqual(['PUT', 'e/a', '1', 'PUT', 'e/a', '1', 'e/a', '2', 'DELETE', 'e/a', '2', 'e/a']);
  });

  it.skipIf(!etcdctl)('-i with progress requests', async () => {
    const out = await new Promise<string>((resolve) => {
      const p = execFile(etcdctl!, [`--endpoints=${cluster.endpoints[0]}`, 'watch', '-i'], { timeout: 4000 }, (_e, stdout) => resolve(stdout));
      p.stdin!.write('watch i/k\n');
      setTimeout(() => void client.put('i/k').value('v').exec(), 1000);
      setTimeout(() => p.stdin!.write('progress\n'), 2000);
    });
    expect(out).toMatch(/PUT\ni\/k\nv\n/);
    expect(out).toMatch(/progress notify: \d+/);
  });
});
