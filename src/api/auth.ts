// The Auth service. Every call goes through Raft (reads of users and roles
// too, as in etcd 3.4), carrying its caller so members check admin rights as
// they apply it. Passwords are checked and hashed by the member that takes the
// call, before proposing: only hashes reach the log.
import type * as grpc from '@grpc/grpc-js';
import type { AuthGate } from '../auth/auth-gate';
import type { AuthInfo, AuthOp } from '../auth/auth-store';
import { checkPassword, hashPassword } from '../auth/password';
import { tokenPrefix } from '../auth/tokens';
import { Errors } from '../errors';
import type { HeaderValues } from '../server/etcd-server';
import { toHeader } from './header';
import { tokenOf } from './call-token';
import { unary } from './unary';

export interface AuthView {
  header(): HeaderValues;
  gate: AuthGate;
  propose(op: AuthOp, who: AuthInfo | undefined): Promise<Record<string, unknown>>;
}

const PERM_TYPES: Record<string, number> = { READ: 0, WRITE: 1, READWRITE: 2 };
const PERM_NAMES = ['READ', 'WRITE', 'READWRITE'];
const buf = (b: Buffer | Uint8Array | undefined | null): Buffer => (b ? Buffer.from(b) : Buffer.alloc(0));

type Req = Record<string, unknown>;

export function authService(view: AuthView): grpc.UntypedServiceImplementation {
  /** A call whose op is made from the request (maybe after async work such as hashing). */
  const call = (make: (req: Req) => AuthOp | Promise<AuthOp>, answer: (resp: Record<string, unknown>) => object = () => ({})) =>
    unary(async (req: Req, c: grpc.ServerUnaryCall<Req, unknown>) => {
      const who = await view.gate.who(tokenOf(c.metadata));
      const resp = await view.propose(await make(req), who);
      return { header: toHeader(view.header()), ...answer(resp) };
    });
  return {
    AuthEnable: call(() => ({ op: 'AuthEnable' })),
    AuthDisable: call(() => ({ op: 'AuthDisable' })),
    Authenticate: call(
      async (req) => {
        const name = String(req['name'] ?? '');
        const store = view.gate.store;
        if (!store.enabled) throw Errors.AuthNotEnabled;
        const stored = store.passwordOf(name);
        if (!stored) throw Errors.AuthFailed;
        if (stored.noPassword) throw Errors.RawNoPasswordUser;
        if (!(await checkPassword(String(req['password'] ?? ''), stored.password))) throw Errors.AuthFailed;
        return { op: 'Authenticate', name, tokenPrefix: tokenPrefix() };
      },
      (r) => ({ token: r['token'] }),
    ),
    UserAdd: call(async (req) => {
      const noPassword = !!(req['options'] as { no_password?: boolean } | null)?.no_password;
      const name = String(req['name'] ?? '');
      if (name === '') throw Errors.UserEmpty;
      return { op: 'UserAdd', name, noPassword, password: noPassword ? '' : await hashPassword(String(req['password'] ?? '')) };
    }),
    UserGet: call((req) => ({ op: 'UserGet', name: String(req['name'] ?? '') }), (r) => ({ roles: r['roles'] })),
    UserList: call(() => ({ op: 'UserList' }), (r) => ({ users: r['users'] })),
    UserDelete: call((req) => ({ op: 'UserDelete', name: String(req['name'] ?? '') })),
    UserChangePassword: call(async (req) => ({ op: 'UserChangePassword', name: String(req['name'] ?? ''), password: await hashPassword(String(req['password'] ?? '')) })),
    UserGrantRole: call((req) => ({ op: 'UserGrantRole', user: String(req['user'] ?? ''), role: String(req['role'] ?? '') })),
    UserRevokeRole: call((req) => ({ op: 'UserRevokeRole', name: String(req['name'] ?? ''), role: String(req['role'] ?? '') })),
    RoleAdd: call((req) => ({ op: 'RoleAdd', name: String(req['name'] ?? '') })),
    RoleGet: call(
      (req) => ({ op: 'RoleGet', role: String(req['role'] ?? '') }),
      (r) => ({ perm: (r['perm'] as Array<{ permType: number; key: Buffer; rangeEnd: Buffer }>).map((p) => ({ permType: PERM_NAMES[p.permType] ?? p.permType, key: p.key, range_end: p.rangeEnd })) }),
    ),
    RoleList: call(() => ({ op: 'RoleList' }), (r) => ({ roles: r['roles'] })),
    RoleDelete: call((req) => ({ op: 'RoleDelete', role: String(req['role'] ?? '') })),
    RoleGrantPermission: call((req) => {
      const p = (req['perm'] ?? {}) as { permType?: string | number; key?: Buffer; range_end?: Buffer };
      const permType = typeof p.permType === 'number' ? p.permType : (PERM_TYPES[p.permType ?? 'READ'] ?? 0);
      return { op: 'RoleGrantPermission', name: String(req['name'] ?? ''), perm: { permType, key: buf(p.key), rangeEnd: buf(p.range_end) } };
    }),
    RoleRevokePermission: call((req) => ({ op: 'RoleRevokePermission', role: String(req['role'] ?? ''), key: buf(req['key'] as Buffer), rangeEnd: buf(req['range_end'] as Buffer) })),
  };
}
