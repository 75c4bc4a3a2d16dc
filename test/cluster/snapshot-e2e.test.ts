// Snapshots across the two systems. A backup taken from etcd-ts with Debian's
// `etcdctl snapshot save`, checked with `etcdctl snapshot status` and restored
// with `etcdctl snapshot restore` into a real etcd; and a backup of a real etcd
// restored with `etcd-ts snapshot restore` into an etcd-ts member. Each restored
// server must answer reads (now and in retained history), compaction errors
// and lease lists exactly as the server the snapshot came from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { call, kvClient, RunningCluster, startEtsCluster, startRealEtcd, waitHealthy } from '../support/cluster';
import { BIN, spawnMember, type Spawned } from '../support/process';
import { freePorts } from '../support/ports';
import { requireTool, runEtcdctl } from '../support/tools';

const b = (s: string): Buffer => Buffer.from(s);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshot-e2e-'));
let cluster: RunningCluster | undefined;
let restored: ChildProcess | undefined;
let realEtcd: RunningCluster | undefined;
let restoredEts: Spawned | undefined;

const etcdctl = (args: string[]) => runEtcdctl(args, { cwd: dir });

/** An answer (or error) with the top-level header reduced to its revision: ids differ between clusters. */
async function read(c: grpc.Client, method: string, req: object): Promise<unknown> {
  try {
    const r = await call<Record<string, unknown>>(c, method, req);
    const { header, ...rest } = r;
    return { revision: (header as { revision: string } | null)?.revision, ...rest };
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { error: { code: err.code, details: err.details } };
  }
}

beforeAll(async () => {
  if (!requireTool('etcd') || !requireTool('etcdctl')) return;
  cluster = await startEtsCluster(3);
});

afterAll(async () => {
  restored?.kill('SIGKILL');
  await restoredEts?.stop('SIGKILL');
  await realEtcd?.stop();
  await cluster?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('etcdctl snapshot save / status / restore', () => {
  it('saves a snapshot of etcd-ts that a real etcd restores and serves identically', async () => {
    if (!cluster) return;
    const kv = kvClient(cluster.endpoints[0]!);
    for (let i = 0; i < 40; i++) await call(kv, 'Put', { key: b(`k/${i % 25}`), value: Buffer.alloc(10 + i * 37, i) });
    await call(kv, 'DeleteRange', { key: b('k/3') });
    const grant = await call<{ ID: string }>(kvClient(cluster.endpoints[1]!, 'Lease'), 'LeaseGrant', { TTL: 3600 });
    await call(kv, 'Put', { key: b('leased'), value: b('v'), lease: grant.ID });
    const mid = await call<{ header: { revision: string } }>(kv, 'Put', { key: b('k/1'), value: b('after') });
    await call(kv, 'Compact', { revision: mid.header.revision, physical: true });
    await call(kv, 'Put', { key: b('big'), value: Buffer.alloc(20_000, 7) });
    const last = await call<{ header: { revision: string } }>(kv, 'DeleteRange', { key: b('k/4') });
    const rev = Number(last.header.revision);

    const file = path.join(dir, 'backup.db');
    const saved = await etcdctl([`--endpoints=${cluster.endpoints[2]}`, 'snapshot', 'save', file]);
    expect(saved.stdout.trim()).toBe(`Snapshot saved at ${file}`);
    const status = JSON.parse((await etcdctl(['snapshot', 'status', file, '-w', 'json'])).stdout) as { revision: number; totalKey: number };
    expect(status.revision).toBe(rev);

    const [clientPort, peerPort] = await freePorts(2);
    const peer = `http://127.0.0.1:${peerPort}`;
    const dataDir = path.join(dir, 'restored.etcd');
    const restore = await etcdctl(['snapshot', 'restore', file, '--name', 'r1', '--data-dir', dataDir, '--initial-cluster', `r1=${peer}`, '--initial-advertise-peer-urls', peer]);
    expect(restore.code, restore.stderr).toBe(0);
    const client = `http://127.0.0.1:${clientPort}`;
    restored = spawn(requireTool('etcd')!, ['--name', 'r1', '--data-dir', dataDir, '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `r1=${peer}`], { stdio: 'ignore' });
    const ep = `127.0.0.1:${clientPort}`;
    await waitHealthy([ep]);

    const ours = kvClient(cluster.endpoints[0]!);
    const theirs = kvClient(ep);
    const reads: object[] = [
      { key: b('\0'), range_end: b('\0') },
      { key: b('k/'), range_end: b('k0'), revision: mid.header.revision },
      { key: b('k/1'), revision: Number(mid.header.revision) - 1 },
      { key: b('big'), count_only: true },
    ];
    for (const req of reads) expect(await read(theirs, 'Range', req)).toEqual(await read(ours, 'Range', req));
    const leases = (c: grpc.Client) => call<{ leases: Array<{ ID: string }> }>(c, 'LeaseLeases', {}).then((r) => r.leases.map((l) => l.ID));
    expect(await leases(kvClient(ep, 'Lease'))).toEqual(await leases(kvClient(cluster.endpoints[0]!, 'Lease')));
    const ttl = await call<{ grantedTTL: string; keys: Buffer[] }>(kvClient(ep, 'Lease'), 'LeaseTimeToLive', { ID: grant.ID, keys: true });
    expect([ttl.grantedTTL, ttl.keys.map(String)]).toEqual(['3600', ['leased']]);
  });

  it('restores a real etcd\'s snapshot into an etcd-ts member that serves it identically', async () => {
    if (!cluster) return;
    realEtcd = await startRealEtcd(requireTool('etcd')!, 1);
    const src = realEtcd.endpoints[0]!;
    const kv = kvClient(src);
    // Enough keys for branch pages in etcd's bbolt file, and a value for overflow pages.
    for (let i = 0; i < 600; i++) await call(kv, 'Put', { key: b(`r/${i % 400}`), value: Buffer.alloc(20 + (i % 50), i % 256) });
    await call(kv, 'DeleteRange', { key: b('r/1'), range_end: b('r/2') });
    const grant = await call<{ ID: string }>(kvClient(src, 'Lease'), 'LeaseGrant', { TTL: 900 });
    await call(kv, 'Put', { key: b('leased'), value: b('v'), lease: grant.ID });
    const mid = await call<{ header: { revision: string } }>(kv, 'Put', { key: b('r/0'), value: b('after') });
    await call(kv, 'Compact', { revision: mid.header.revision, physical: true });
    await call(kv, 'Put', { key: b('big'), value: Buffer.alloc(30_000, 9) });

    const file = path.join(dir, 'from-etcd.db');
    expect((await etcdctl([`--endpoints=${src}`, 'snapshot', 'save', file])).stdout.trim()).toBe(`Snapshot saved at ${file}`);
    const dataDir = path.join(dir, 'ets-restored.etcd');
    const restore = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [BIN, 'snapshot', 'restore', file, '--name', 'e1', '--data-dir', dataDir], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`restored snapshot ${file} into ${dataDir}: revision `);

    const [clientPort, peerPort] = await freePorts(2);
    const peer = `http://127.0.0.1:${peerPort}`;
    const client = `http://127.0.0.1:${clientPort}`;
    restoredEts = spawnMember(['--name', 'e1', '--data-dir', dataDir, '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `e1=${peer}`], { cwd: dir });
    const ep = `127.0.0.1:${clientPort}`;
    await waitHealthy([ep]);

    const theirs = kvClient(src);
    const ours = kvClient(ep);
    const reads: object[] = [
      { key: b('\0'), range_end: b('\0') },
      { key: b('r/'), range_end: b('r0'), revision: mid.header.revision, limit: 50 },
      { key: b('r/0'), revision: Number(mid.header.revision) - 1 },
      { key: b('big') },
    ];
    for (const req of reads) expect(await read(ours, 'Range', req)).toEqual(await read(theirs, 'Range', req));
    const leases = (c: grpc.Client) => call<{ leases: Array<{ ID: string }> }>(c, 'LeaseLeases', {}).then((r) => r.leases.map((l) => l.ID));
    expect(await leases(kvClient(ep, 'Lease'))).toEqual(await leases(kvClient(src, 'Lease')));
    const ttl = await call<{ grantedTTL: string; keys: Buffer[] }>(kvClient(ep, 'Lease'), 'LeaseTimeToLive', { ID: grant.ID, keys: true });
    expect([ttl.grantedTTL, ttl.keys.map(String)]).toEqual(['900', ['leased']]);
    // Both go on from the same revision.
    const next = async (c: grpc.Client) => (await call<{ header: { revision: string } }>(c, 'Put', { key: b('next'), value: b('1') })).header.revision;
    expect(await next(ours)).toBe(await next(theirs));
  });
});
