// Auth against real etcd 3.4: one script of Auth calls, and KV, Watch, Lease,
// Maintenance and Cluster calls made as different users, run against a fresh
// real etcd and a fresh etcd-ts. Tokens are each system's own (from its
// Authenticate); every answer, success or error, must be equal apart from ids,
// terms, tokens and hashes.
import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { differentialPair, kvClient } from '../support/cluster';
import { normalizeAnswer } from '../support/normalize';

const b = (s: string): Buffer => Buffer.from(s);

/** Tokens, hashes, ids and terms are each system's own. */
function normalize(v: unknown): unknown {
  return normalizeAnswer(v, {
    field: (k, x) =>
      k === 'token' ? (typeof x === 'string' && x.length > 0 ? 'a token' : x) : ['hash', 'ID', 'member_id', 'cluster_id', 'raft_term'].includes(k) ? typeof x : undefined,
  });
}

function rpc<T>(c: grpc.Client, method: string, req: object, token?: string): Promise<T> {
  const md = new grpc.Metadata();
  if (token) md.set('token', token);
  return new Promise((resolve, reject) => {
    const fn = (c as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: T) => void) => void>)[method]!;
    fn.call(c, req, md, { deadline: Date.now() + 10_000 }, (e, v) => (e ? reject(e) : resolve(v)));
  });
}

async function answer(p: Promise<unknown>): Promise<unknown> {
  try {
    return normalize(await p);
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { error: { code: err.code, details: err.details } };
  }
}

/** The first reply of a watch created with `token`. */
function firstWatchReply(ep: string, token: string | undefined, key: string, rangeEnd?: string): Promise<unknown> {
  const c = kvClient(ep, 'Watch') as unknown as { Watch: (md: grpc.Metadata) => grpc.ClientDuplexStream<object, object> };
  const md = new grpc.Metadata();
  if (token) md.set('token', token);
  const s = c.Watch(md);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('no reply'), 5000);
    s.on('data', (r: object) => {
      clearTimeout(t);
      s.cancel();
      resolve(normalize(r));
    });
    s.on('error', () => undefined);
    s.write({ create_request: { key: b(key), range_end: rangeEnd === undefined ? undefined : b(rangeEnd) } });
  });
}

async function runScript(ep: string): Promise<Array<Record<string, unknown>>> {
  const A = kvClient(ep, 'Auth');
  const K = kvClient(ep, 'KV');
  const L = kvClient(ep, 'Lease');
  const M = kvClient(ep, 'Maintenance');
  const C = kvClient(ep, 'Cluster');
  const tokens: Record<string, string | undefined> = {};
  const login = async (name: string, password: string) => {
    tokens[name] = (await rpc<{ token: string }>(A, 'Authenticate', { name, password })).token;
    return { token: 'a token' };
  };
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['authenticate before enable', () => rpc(A, 'Authenticate', { name: 'root', password: 'x' })],
    ['enable without root', () => rpc(A, 'AuthEnable', {})],
    ['add root', () => rpc(A, 'UserAdd', { name: 'root', password: 'rootpw' })],
    ['add root again', () => rpc(A, 'UserAdd', { name: 'root', password: 'x' })],
    ['add empty user', () => rpc(A, 'UserAdd', { name: '', password: 'x' })],
    ['enable without root role', () => rpc(A, 'AuthEnable', {})],
    ['grant a missing role', () => rpc(A, 'UserGrantRole', { user: 'root', role: 'nope' })],
    ['grant root to root', () => rpc(A, 'UserGrantRole', { user: 'root', role: 'root' })],
    ['grant root again', () => rpc(A, 'UserGrantRole', { user: 'root', role: 'root' })],
    ['grant to a missing user', () => rpc(A, 'UserGrantRole', { user: 'nobody', role: 'root' })],
    ['add alice', () => rpc(A, 'UserAdd', { name: 'alice', password: 'alicepw' })],
    ['add bob without password', () => rpc(A, 'UserAdd', { name: 'bob', password: '', options: { no_password: true } })],
    ['add role r', () => rpc(A, 'RoleAdd', { name: 'r' })],
    ['add role r again', () => rpc(A, 'RoleAdd', { name: 'r' })],
    ['add empty role', () => rpc(A, 'RoleAdd', { name: '' })],
    ['grant r foo/ prefix readwrite', () => rpc(A, 'RoleGrantPermission', { name: 'r', perm: { permType: 'READWRITE', key: b('foo/'), range_end: b('foo0') } })],
    ['grant r key k read', () => rpc(A, 'RoleGrantPermission', { name: 'r', perm: { permType: 'READ', key: b('k'), range_end: b('') } })],
    ['grant r key k write (replaces read)', () => rpc(A, 'RoleGrantPermission', { name: 'r', perm: { permType: 'WRITE', key: b('k'), range_end: b('') } })],
    ['grant to a missing role', () => rpc(A, 'RoleGrantPermission', { name: 'nope', perm: { permType: 'READ', key: b('a') } })],
    ['role get r', () => rpc(A, 'RoleGet', { role: 'r' })],
    ['role get missing', () => rpc(A, 'RoleGet', { role: 'nope' })],
    ['grant r to alice', () => rpc(A, 'UserGrantRole', { user: 'alice', role: 'r' })],
    ['user get alice', () => rpc(A, 'UserGet', { name: 'alice' })],
    ['user get missing', () => rpc(A, 'UserGet', { name: 'nobody' })],
    ['user list', () => rpc(A, 'UserList', {})],
    ['role list', () => rpc(A, 'RoleList', {})],
    ['revoke a role not granted', () => rpc(A, 'UserRevokeRole', { name: 'alice', role: 'root' })],
    ['revoke a permission not granted', () => rpc(A, 'RoleRevokePermission', { role: 'r', key: b('zz') })],
    ['put before enable', () => rpc(K, 'Put', { key: b('foo/1'), value: b('v') })],
    ['enable', () => rpc(A, 'AuthEnable', {})],
    ['enable again', () => rpc(A, 'AuthEnable', {})],
    ['put without token', () => rpc(K, 'Put', { key: b('foo/1'), value: b('v') })],
    ['get without token', () => rpc(K, 'Range', { key: b('foo/1') })],
    ['put with a bad token', () => rpc(K, 'Put', { key: b('foo/1'), value: b('v') }, 'not.a.token')],
    ['user list without token', () => rpc(A, 'UserList', {})],
    ['wrong password', () => rpc(A, 'Authenticate', { name: 'alice', password: 'nope' })],
    ['unknown user', () => rpc(A, 'Authenticate', { name: 'nobody', password: 'x' })],
    ['bob has no password', () => rpc(A, 'Authenticate', { name: 'bob', password: '' })],
    ['login alice', () => login('alice', 'alicepw')],
    ['login root', () => login('root', 'rootpw')],
    ['alice puts foo/1', () => rpc(K, 'Put', { key: b('foo/1'), value: b('a') }, tokens['alice'])],
    ['alice puts foo/1 with prev_kv', () => rpc(K, 'Put', { key: b('foo/1'), value: b('b'), prev_kv: true }, tokens['alice'])],
    ['alice puts x', () => rpc(K, 'Put', { key: b('x'), value: b('a') }, tokens['alice'])],
    ['alice writes k', () => rpc(K, 'Put', { key: b('k'), value: b('w') }, tokens['alice'])],
    ['alice reads k (write only)', () => rpc(K, 'Range', { key: b('k') }, tokens['alice'])],
    ['alice reads foo/ prefix', () => rpc(K, 'Range', { key: b('foo/'), range_end: b('foo0') }, tokens['alice'])],
    ['alice reads a wider range', () => rpc(K, 'Range', { key: b('foo'), range_end: b('fop') }, tokens['alice'])],
    ['alice reads everything', () => rpc(K, 'Range', { key: b('\0'), range_end: b('\0') }, tokens['alice'])],
    ['alice deletes foo/ prefix', () => rpc(K, 'DeleteRange', { key: b('foo/2'), range_end: b('foo/3') }, tokens['alice'])],
    ['alice deletes k with prev_kv', () => rpc(K, 'DeleteRange', { key: b('k'), prev_kv: true }, tokens['alice'])],
    ['alice txn inside', () => rpc(K, 'Txn', { compare: [{ key: b('foo/1'), target: 'VERSION', result: 'GREATER', version: 0 }], success: [{ request_put: { key: b('foo/2'), value: b('t') } }], failure: [] }, tokens['alice'])],
    ['alice txn comparing outside', () => rpc(K, 'Txn', { compare: [{ key: b('x'), target: 'VERSION', result: 'EQUAL', version: 0 }], success: [], failure: [] }, tokens['alice'])],
    ['alice txn failure branch outside', () => rpc(K, 'Txn', { compare: [], success: [{ request_put: { key: b('foo/3'), value: b('t') } }], failure: [{ request_put: { key: b('x'), value: b('t') } }] }, tokens['alice'])],
    ['alice read-only txn outside', () => rpc(K, 'Txn', { compare: [], success: [{ request_range: { key: b('x') } }], failure: [] }, tokens['alice'])],
    ['alice compacts', () => rpc(K, 'Compact', { revision: 1 }, tokens['alice'])],
    ['alice grants a lease', () => rpc(L, 'LeaseGrant', { TTL: 60, ID: 777 }, tokens['alice'])],
    ['root puts x on the lease', () => rpc(K, 'Put', { key: b('x'), value: b('r'), lease: 777 }, tokens['root'])],
    ['alice revokes it', () => rpc(L, 'LeaseRevoke', { ID: 777 }, tokens['alice'])],
    ['alice defragments', () => rpc(M, 'Defragment', {}, tokens['alice'])],
    ['alice hashes', () => rpc(M, 'HashKV', {}, tokens['alice'])],
    ['status needs no one', () => rpc<{ header: object }>(M, 'Status', {}).then((s) => ({ header: s.header }))],
    ['alice adds a member', () => rpc(C, 'MemberAdd', { peerURLs: ['http://127.0.0.1:1'] }, tokens['alice'])],
    ['alice lists members', () => rpc<{ members: unknown[] }>(C, 'MemberList', {}, tokens['alice']).then((r) => r.members.length)],
    ['alice gets herself', () => rpc(A, 'UserGet', { name: 'alice' }, tokens['alice'])],
    ['alice gets root', () => rpc(A, 'UserGet', { name: 'root' }, tokens['alice'])],
    ['alice gets her role', () => rpc(A, 'RoleGet', { role: 'r' }, tokens['alice'])],
    ['alice lists users', () => rpc(A, 'UserList', {}, tokens['alice'])],
    ['alice adds a user', () => rpc(A, 'UserAdd', { name: 'eve', password: 'x' }, tokens['alice'])],
    ['root reads everything', () => rpc(K, 'Range', { key: b('\0'), range_end: b('\0'), count_only: true }, tokens['root'])],
    ['root deletes root', () => rpc(A, 'UserDelete', { name: 'root' }, tokens['root'])],
    ['root revokes root from root', () => rpc(A, 'UserRevokeRole', { name: 'root', role: 'root' }, tokens['root'])],
    ['root deletes the root role', () => rpc(A, 'RoleDelete', { role: 'root' }, tokens['root'])],
    ['root revokes k', () => rpc(A, 'RoleRevokePermission', { role: 'r', key: b('k') }, tokens['root'])],
    ['alice with a token from before the change', () => rpc(K, 'Put', { key: b('foo/9'), value: b('v') }, tokens['alice'])],
    ['root changes alice password', () => rpc(A, 'UserChangePassword', { name: 'alice', password: 'new' }, tokens['root'])],
    ['alice old token after the change', () => rpc(K, 'Range', { key: b('foo/1') }, tokens['alice'])],
    ['login alice again', () => login('alice', 'new')],
    ['alice reads again', () => rpc(K, 'Range', { key: b('foo/1') }, tokens['alice'])],
    ['root deletes role r', () => rpc(A, 'RoleDelete', { role: 'r' }, tokens['root'])],
    ['alice after her role is gone', () => rpc(K, 'Range', { key: b('foo/1') }, tokens['alice'])],
    ['root deletes alice', () => rpc(A, 'UserDelete', { name: 'alice' }, tokens['root'])],
    ['alice token after delete', () => rpc(K, 'Range', { key: b('foo/1') }, tokens['alice'])],
    ['root disables auth', () => rpc(A, 'AuthDisable', {}, tokens['root'])],
    ['put without token after disable', () => rpc(K, 'Put', { key: b('after'), value: b('v') })],
    ['root token after disable', () => rpc(K, 'Range', { key: b('after') }, tokens['root'])],
  ];
  const out: Array<Record<string, unknown>> = [];
  for (const [name, step] of steps) {
    out.push({ [name]: await answer(step()) });
    // Watches are checked once both users are logged in, before any KV step changes anything.
    if (name === 'login root') {
      out.push({ 'alice watches foo/1': await firstWatchReply(ep, tokens['alice'], 'foo/1') });
      out.push({ 'alice watches x': await firstWatchReply(ep, tokens['alice'], 'x') });
      out.push({ 'alice watches from foo/ on': await firstWatchReply(ep, tokens['alice'], 'foo/', '\0') });
      out.push({ 'no one watches x': await firstWatchReply(ep, undefined, 'x') });
    }
  }
  return out;
}

const pair = differentialPair(1, 1);
const etcdBin = pair.etcdBin;

describe('differential: auth against real etcd', () => {
  it('answers Auth calls, and calls made as users, as etcd does', async () => {
    if (!etcdBin) return;
    const [want, got] = await Promise.all([runScript(pair.real!.endpoints[0]!), runScript(pair.ets!.endpoints[0]!)]);
    if (process.env['DIFF_DEBUG']) for (let i = 0; i < want.length; i++) if (JSON.stringify(want[i]) !== JSON.stringify(got[i])) console.log(JSON.stringify(want[i]), '\n   GOT', JSON.stringify(got[i]));
    for (let i = 0; i < want.length; i++) expect(got[i]).toEqual(want[i]);
  });
});
