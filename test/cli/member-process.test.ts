// The member as a process: flag errors exit 2 with one line and leave nothing
// behind; a good command line serves etcd's six services over gRPC (answering
// UNIMPLEMENTED for what etcd 3.4 lacks too, such as AuthStatus), logs JSON
// lines, stops on signals.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdProto } from '../../src/api/proto';
import { freePorts } from '../support/ports';
import { spawnMember, Spawned } from '../support/process';
import { requireTool } from '../support/tools';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-ts-cli-'));
const started: Spawned[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function startMember(name: string, env?: NodeJS.ProcessEnv): Promise<{ m: Spawned; clientPort: number }> {
  const [clientPort, peerPort] = await freePorts(2);
  const peer = `http://127.0.0.1:${peerPort}`;
  const m = spawnMember(
    ['--name', name, '--listen-client-urls', `http://127.0.0.1:${clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `${name}=${peer}`],
    { cwd: tmp, ...(env ? { env } : {}) },
  );
  started.push(m);
  await m.waitForLog(/member started/);
  return { m, clientPort };
}

function client(service: string, port: number): grpc.Client {
  const pkg = loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject;
  const Ctor = pkg[service] as grpc.ServiceClientConstructor;
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function unary(c: grpc.Client, method: string, req: object): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    (c as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null) => void) => void>)[method]!.call(c, req, (e) => resolve(e));
  });
}

describe('flag errors', () => {
  it.each([
    [['--bogus']],
    [['--name', 'x', '--initial-cluster', 'y=http://127.0.0.1:1']],
    [['--election-timeout', '100']],
    [['--listen-client-urls', 'http//nope']],
  ])('%j exits 2 with one line and creates nothing', async (argv) => {
    const dir = fs.mkdtempSync(path.join(tmp, 'bad-'));
    const m = spawnMember(argv, { cwd: dir });
    const { code } = await m.exited;
    expect(code).toBe(2);
    expect(m.stderr).toHaveLength(1);
    expect(m.stderr[0]).toMatch(/^etcd-ts: /);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('a started member', () => {
  it('serves all six services, answering UNIMPLEMENTED for what etcd 3.4 lacks too', async () => {
    const { m, clientPort } = await startMember('svc');
    const calls: Array<[string, string, object, grpc.status]> = [
      ['Cluster', 'MemberList', {}, grpc.status.OK],
      ['Maintenance', 'Status', {}, grpc.status.OK],
      ['Lease', 'LeaseLeases', {}, grpc.status.OK],
      ['Auth', 'AuthStatus', {}, grpc.status.UNIMPLEMENTED],
    ];
    for (const [svc, method, req, code] of calls) {
      const c = client(svc, clientPort);
      const err = await unary(c, method, req);
      c.close();
      // Each service is registered (so the method is known) and answers with a gRPC status, not a transport failure.
      expect(err?.code ?? grpc.status.OK, `${svc}.${method}`).toBe(code);
    }
    const kv = client('KV', clientPort);
    let rangeErr: grpc.ServiceError | null = null;
    for (let i = 0; i < 100; i++) {
      rangeErr = await unary(kv, 'Range', { key: Buffer.from('foo') });
      if (rangeErr?.code !== grpc.status.UNAVAILABLE) break; // no leader yet: a single member elects itself within a tick or two
      await new Promise((r) => setTimeout(r, 100));
    }
    kv.close();
    expect(rangeErr).toBeNull();
    // Auth goes through Raft, so it answers once there is a leader.
    const auth = client('Auth', clientPort);
    expect(await unary(auth, 'UserList', {})).toBeNull();
    auth.close();
    const watch = client('Watch', clientPort);
    const stream = (watch as unknown as { Watch: () => grpc.ClientDuplexStream<object, object> }).Watch();
    const created = await new Promise<{ created: boolean }>((resolve, reject) => {
      stream.on('data', resolve);
      stream.on('error', reject);
      stream.write({ create_request: { key: Buffer.from('foo') } });
    });
    stream.cancel();
    watch.close();
    expect(created.created).toBe(true);

    const lines = m.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l['name']).toBe('svc');
    const { code } = await m.stop('SIGTERM');
    expect(code).toBe(0);
  });

  it('stops cleanly on SIGINT', async () => {
    const { m } = await startMember('sigint');
    expect((await m.stop('SIGINT')).code).toBe(0);
    await m.waitForLog(/member stopped/, 1000);
  });

  it('with ETCD_TS_TRACE, writes the marks of a put when it stops (bench/timeline.ts)', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'trace-'));
    const { m, clientPort } = await startMember('traced', { ETCD_TS_TRACE: dir });
    const kv = client('KV', clientPort);
    // Until the lone member has elected itself; bounded in count and time.
    let err = await unary(kv, 'Put', { key: Buffer.from('k'), value: Buffer.from('v') });
    const deadline = Date.now() + 10_000;
    for (let i = 0; i < 100 && err && Date.now() < deadline; i++) {
      await new Promise((r) => setTimeout(r, 100));
      err = await unary(kv, 'Put', { key: Buffer.from('k'), value: Buffer.from('v') });
    }
    expect(err).toBeNull();
    // Calls that arrive before the member is ready wait in grpc-js; the marks are on the fast path.
    expect(await unary(kv, 'Put', { key: Buffer.from('k'), value: Buffer.from('w') })).toBeNull();
    kv.close();
    expect(fs.readdirSync(dir)).toEqual([]);
    expect((await m.stop('SIGTERM')).code).toBe(0);
    const file = path.join(dir, `trace-${m.proc.pid}.txt`);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    for (const l of lines) expect(l).toMatch(/^\d+ \S/);
    const labels = lines.map((l) => l.slice(l.indexOf(' ') + 1));
    // The fast-path put's path, in order: the HTTP/2 stream, the request, Ready with its entry,
    // the synced write, the answer and its trailers.
    let from = 0;
    for (const re of [/^stream$/, /^req$/, /^ready e1 /, /^write sync /, /^written$/, /^saved$/, /^applied$/, /^resp$/, /^trailers$/]) {
      const i = labels.findIndex((l, j) => j >= from && re.test(l));
      expect(i, `${re} after mark ${from}`).toBeGreaterThanOrEqual(0);
      from = i + 1;
    }
  });

  it('is reached by etcdctl, which puts and gets through it', async () => {
    const etcdctl = requireTool('etcdctl');
    if (!etcdctl) return;
    const { m, clientPort } = await startMember('ctl');
    const ctl = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(etcdctl, [`--endpoints=127.0.0.1:${clientPort}`, '--command-timeout=5s', ...args], { env: { ETCDCTL_API: '3' }, timeout: 15_000 },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })),
      );
    // A fresh lone member elects itself within an election timeout (up to ~1.1 s
    // with etcd's timings, as etcd): retry until then, spaced, bounded in time and count.
    let put = await ctl('put', 'foo', 'bar');
    const deadline = Date.now() + 10_000;
    for (let i = 0; i < 100 && put.code !== 0 && Date.now() < deadline; i++) {
      await new Promise((r) => setTimeout(r, 100));
      put = await ctl('put', 'foo', 'bar');
    }
    expect(put.stdout.trim()).toBe('OK');
    expect((await ctl('get', 'foo')).stdout.trim().split('\n')).toEqual(['foo', 'bar']);
    await m.stop();
  });
});
