// Durability and restarts: every write acknowledged before all members are
// SIGKILLed at once is there after they restart; a killed member rejoins with
// its data; a member that fell behind the compacted log catches up by snapshot;
// a corrupt, foreign or old-layout data dir is refused; a store database left
// behind its WAL database is caught up from the WAL.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Level } from 'level';
import { call, kvClient, leaderIndex, RunningCluster, startEtsCluster, waitHealthy } from '../support/cluster';
import { spawnMember } from '../support/process';

let cluster: RunningCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

interface RangeResp { kvs: Array<{ key: Buffer; value: Buffer }>; count: string; header: { revision: string } }

async function getAll(endpoint: string, prefix: string): Promise<Map<string, string>> {
  const end = Buffer.from(prefix);
  end[end.length - 1]!++;
  const r = await call<RangeResp>(kvClient(endpoint), 'Range', { key: Buffer.from(prefix), range_end: end }, 20_000);
  return new Map(r.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
}

describe('durability', () => {
  it('keeps every acknowledged write when all members are SIGKILLed at once', async () => {
    cluster = await startEtsCluster(3);
    const c = cluster;
    const acked = new Map<string, string>();
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      const kv = kvClient(c.endpoints[w % 3]!);
      for (let i = 0; !stop && i < 100_000; i++) {
        const key = `d/${w}/${i}`;
        try {
          await call(kv, 'Put', { key: Buffer.from(key), value: Buffer.from(`v${i}`) }, 3000);
          acked.set(key, `v${i}`);
        } catch {
          // unknown outcome: may or may not be there; not checked
        }
      }
    };
    const writers = Array.from({ length: 12 }, (_, w) => writer(w));
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(c.members.map((_, i) => c.kill(i, 'SIGKILL')));
    stop = true;
    await Promise.all(writers);
    const ackedAtKill = new Map(acked);
    c.members.forEach((_, i) => c.restart(i));
    await waitHealthy(c.endpoints);
    for (const ep of c.endpoints) {
      const got = await getAll(ep, 'd/');
      const missing = [...ackedAtKill].filter(([k, v]) => got.get(k) !== v);
      expect(missing, `missing on ${ep}`).toEqual([]);
    }
  });

  it('lets a member that fell behind a compacted log catch up by snapshot', async () => {
    cluster = await startEtsCluster(3, ['--snapshot-count', '500']);
    const c = cluster;
    // A follower falls behind (killing the leader would only test an election).
    const lead = await leaderIndex(c);
    const behind = (lead + 1) % 3;
    await c.kill(behind);
    // More than the 5000 entries kept behind a snapshot, so the leader must send one.
    const kv = kvClient(c.endpoints[lead]!);
    const batch = 50;
    // Each put is idempotent (fixed key and value), so one that a loaded machine
    // times out (an election can start under load) is simply retried.
    const put = async (n: number): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await call(kv, 'Put', { key: Buffer.from(`s/${n}`), value: Buffer.from(String(n)) }, 10_000);
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    for (let i = 0; i < 5600; i += batch) {
      await Promise.all(Array.from({ length: batch }, (_, j) => put(i + j)));
    }
    c.restart(behind);
    await waitHealthy(c.endpoints);
    const deadline = Date.now() + 30_000;
    let got = new Map<string, string>();
    while (Date.now() < deadline) {
      got = await getAll(c.endpoints[behind]!, 's/');
      if (got.size === 5600) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(got.size).toBe(5600);
    expect(got.get('s/5599')).toBe('5599');
    expect(c.members[behind]!.log.join('')).toMatch(/installed snapshot from leader/);
  });
});

describe('data dirs', () => {
  it('a restarted member keeps its data; a foreign or corrupt data dir is refused', async () => {
    cluster = await startEtsCluster(1);
    const c = cluster;
    await call(kvClient(c.endpoints[0]!), 'Put', { key: Buffer.from('keep'), value: Buffer.from('me') });
    await c.kill(0);
    c.restart(0);
    await waitHealthy(c.endpoints);
    expect((await getAll(c.endpoints[0]!, 'keep')).get('keep')).toBe('me');
    await c.kill(0);

    // The same data dir under another member's flags: refused with a clear line, exit non-zero.
    const args = [...c.members[0]!.args.slice(1)];
    const token = args.indexOf('--initial-cluster-token');
    args[token + 1] = 'another-cluster';
    const foreign = spawnMember(args, { cwd: c.dir });
    const r1 = await foreign.exited;
    expect(r1.code).not.toBe(0);
    expect(foreign.stdout.join('\n')).toMatch(/refusing to start: .* belongs to member/);

    // A data dir whose database files are garbage.
    const dataDir = args[args.indexOf('--data-dir') + 1]!;
    const dbDir = path.join(dataDir, 'member', 'db');
    for (const f of fs.readdirSync(dbDir)) if (/^(MANIFEST|CURRENT)/.test(f)) fs.writeFileSync(path.join(dbDir, f), 'garbage');
    args[token + 1] = c.members[0]!.args[c.members[0]!.args.indexOf('--initial-cluster-token') + 1]!;
    const corrupt = spawnMember(args, { cwd: c.dir });
    const r2 = await corrupt.exited;
    expect(r2.code).not.toBe(0);
    expect(corrupt.stdout.join('\n')).toMatch(/cannot open the data dir|refusing to start/);

    // A data dir of the older layout (the Raft log inside member/db, no member/wal):
    // refused, not bootstrapped over.
    const oldDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ets-oldlayout-'));
    const oldDb = new Level<Buffer, Buffer>(path.join(oldDir, 'member', 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await oldDb.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' }).put(Buffer.from('m'), Buffer.from('x'));
    await oldDb.close();
    args[args.indexOf('--data-dir') + 1] = oldDir;
    const old = spawnMember(args, { cwd: c.dir });
    const r3 = await old.exited;
    expect(r3.code).not.toBe(0);
    expect(old.stdout.join('\n')).toMatch(/refusing to start from .*older etcd-ts/);
    expect(fs.existsSync(path.join(oldDir, 'member', 'wal'))).toBe(false);
    fs.rmSync(oldDir, { recursive: true, force: true });
  });

  it('a store that lost writes the WAL kept (they are separate databases) is caught up from the WAL on restart', async () => {
    cluster = await startEtsCluster(1);
    const c = cluster;
    const kv = kvClient(c.endpoints[0]!);
    for (let i = 0; i < 20; i++) await call(kv, 'Put', { key: Buffer.from(`s/${i}`), value: Buffer.from(`a${i}`) });
    await c.kill(0, 'SIGTERM');
    const dataDir = c.members[0]!.args[c.members[0]!.args.indexOf('--data-dir') + 1]!;
    const storeDir = path.join(dataDir, 'member', 'db');
    const saved = fs.mkdtempSync(path.join(os.tmpdir(), 'ets-store-'));
    fs.cpSync(storeDir, saved, { recursive: true });

    c.restart(0);
    await waitHealthy(c.endpoints);
    const kv2 = kvClient(c.endpoints[0]!);
    for (let i = 0; i < 20; i++) await call(kv2, 'Put', { key: Buffer.from(`s/${i}`), value: Buffer.from(`b${i}`) });
    await call(kv2, 'DeleteRange', { key: Buffer.from('s/0') });
    const before = await getAll(c.endpoints[0]!, 's/');
    await c.kill(0, 'SIGTERM');

    // The store as it was before the second round of writes: what an unsynced
    // store left behind by a power cut looks like. The WAL still holds them all.
    fs.rmSync(storeDir, { recursive: true, force: true });
    fs.cpSync(saved, storeDir, { recursive: true });
    fs.rmSync(saved, { recursive: true, force: true });
    c.restart(0);
    await waitHealthy(c.endpoints);
    const after = await getAll(c.endpoints[0]!, 's/');
    expect(after.size).toBe(19);
    expect(after).toEqual(before);
    expect(after.get('s/7')).toBe('b7');
  });

  it('refuses --initial-cluster-state=existing on an empty data dir when no other member can be asked, creating nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ets-existing-'));
    const m = spawnMember(['--name', 'x', '--initial-cluster-state', 'existing', '--listen-client-urls', 'http://127.0.0.1:0', '--listen-peer-urls', 'http://127.0.0.1:0'], { cwd: dir });
    const r = await m.exited;
    expect(r.code).not.toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
