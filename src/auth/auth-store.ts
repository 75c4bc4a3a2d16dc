// etcd's auth store: users with their roles, roles with their key-range
// permissions, on or off, and a revision that every change to users or roles
// raises. It changes only by applying committed Auth entries, so every member
// holds the same store. It is one aux record of the MVCC store (written beside
// the consistent index, carried in snapshots), reloaded when a snapshot
// replaces the store. Tokens are kept here too (tokens.ts), in memory.
import { Errors } from '../errors';
import type { MvccStore } from '../mvcc/store';
import { decode, encode } from '../server/codec';
import { permits, READ, WRITE, type Permission } from './range-perm';
import { TokenKeeper } from './tokens';

export const ROOT = 'root';
const AUX_NAME = 'auth';

interface User {
  name: string;
  /** The password's hash (password.ts); '' for a user added without one. */
  password: string;
  roles: string[];
  noPassword: boolean;
}

interface Role {
  name: string;
  perms: Permission[];
}

interface State {
  enabled: boolean;
  revision: number;
  users: User[];
  roles: Role[];
}

/** Who asks: the token's user and the store's revision when the request was made (0: no token). */
export interface AuthInfo {
  user: string;
  revision: number;
}

/** An Auth call as applied: the method and its (already hashed, already validated) arguments. */
export type AuthOp =
  | { op: 'AuthEnable' }
  | { op: 'AuthDisable' }
  | { op: 'Authenticate'; name: string; tokenPrefix: string }
  | { op: 'UserAdd'; name: string; password: string; noPassword: boolean }
  | { op: 'UserGet'; name: string }
  | { op: 'UserList' }
  | { op: 'UserDelete'; name: string }
  | { op: 'UserChangePassword'; name: string; password: string }
  | { op: 'UserGrantRole'; user: string; role: string }
  | { op: 'UserRevokeRole'; name: string; role: string }
  | { op: 'RoleAdd'; name: string }
  | { op: 'RoleGet'; role: string }
  | { op: 'RoleList' }
  | { op: 'RoleDelete'; role: string }
  | { op: 'RoleGrantPermission'; name: string; perm: Permission }
  | { op: 'RoleRevokePermission'; role: string; key: Buffer; rangeEnd: Buffer };

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class AuthStore {
  private state: State = { enabled: false, revision: 0, users: [], roles: [] };
  readonly tokens = new TokenKeeper();

  constructor(private readonly store: MvccStore) {
    this.load();
    store.onRestore(() => this.load());
  }

  get enabled(): boolean {
    return this.state.enabled;
  }

  get revision(): number {
    return this.state.revision;
  }

  private user(name: string): User | undefined {
    return this.state.users.find((u) => u.name === name);
  }

  private role(name: string): Role | undefined {
    return this.state.roles.find((r) => r.name === name);
  }

  /** The stored hash, for the password check made before an Authenticate is proposed. */
  passwordOf(name: string): { password: string; noPassword: boolean } | undefined {
    const u = this.user(name);
    return u && { password: u.password, noPassword: u.noPassword };
  }

  // ---- checks (etcd's isOpPermitted / IsAdminPermitted) ----------------------

  /** Admin: with auth on, a user holding the root role. */
  checkAdmin(who: AuthInfo | undefined): void {
    if (!this.state.enabled) return;
    if (!who || who.user === '') throw Errors.UserEmpty;
    const u = this.user(who.user);
    if (!u) throw Errors.UserNotFound;
    if (!u.roles.includes(ROOT)) throw Errors.PermissionDenied;
  }

  /** READ or WRITE on a key or range, as the user holds it now; an old revision fails (the token predates a change). */
  check(who: AuthInfo | undefined, want: typeof READ | typeof WRITE, key: Buffer, rangeEnd: Buffer = Buffer.alloc(0)): void {
    if (!this.state.enabled) return;
    if (!who || who.revision === 0) throw Errors.UserEmpty;
    if (who.revision < this.state.revision) throw Errors.AuthOldRevision;
    const u = this.user(who.user);
    if (!u) throw Errors.PermissionDenied;
    if (u.roles.includes(ROOT)) return;
    const perms = u.roles.flatMap((r) => this.role(r)?.perms ?? []);
    if (!permits(perms, want, key, rangeEnd)) throw Errors.PermissionDenied;
  }

  // ---- apply ------------------------------------------------------------------

  /**
   * Applies one committed Auth entry for `who` (the proposer's caller); returns
   * the response's fields, or throws etcd's error (the entry then changes nothing).
   */
  apply(op: AuthOp, who: AuthInfo | undefined, index: number): Record<string, unknown> {
    const s = this.state;
    const admin = !(op.op === 'Authenticate' || op.op === 'UserGet' || op.op === 'RoleGet');
    if (admin) this.checkAdmin(who);
    switch (op.op) {
      case 'AuthEnable': {
        if (s.enabled) return {};
        const root = this.user(ROOT);
        if (!root) throw Errors.RootUserNotExist;
        if (!root.roles.includes(ROOT)) throw Errors.RootRoleNotExist;
        s.enabled = true;
        return this.save({});
      }
      case 'AuthDisable':
        if (!s.enabled) return {};
        s.enabled = false;
        this.tokens.clear();
        return this.save({});
      case 'Authenticate': {
        if (!s.enabled) throw Errors.AuthNotEnabled;
        const u = this.user(op.name);
        if (!u || u.noPassword) throw Errors.AuthFailed;
        const token = `${op.tokenPrefix}.${index}`;
        this.tokens.assign(token, u.name);
        return { token };
      }
      case 'UserAdd':
        if (op.name === '') throw Errors.UserEmpty;
        if (this.user(op.name)) throw Errors.UserAlreadyExist;
        s.users.push({ name: op.name, password: op.noPassword ? '' : op.password, roles: [], noPassword: op.noPassword });
        s.users.sort(byName);
        return this.bump();
      case 'UserGet': {
        const u = this.user(op.name);
        if (s.enabled && who?.user !== op.name) this.checkAdmin(who);
        if (!u) throw Errors.UserNotFound;
        return { roles: [...u.roles] };
      }
      case 'UserList':
        return { users: s.users.map((u) => u.name) };
      case 'UserDelete': {
        if (s.enabled && op.name === ROOT) throw Errors.InvalidAuthMgmt;
        if (!this.user(op.name)) throw Errors.UserNotFound;
        s.users = s.users.filter((u) => u.name !== op.name);
        this.tokens.invalidateUser(op.name);
        return this.bump();
      }
      case 'UserChangePassword': {
        const u = this.user(op.name);
        if (!u) throw Errors.UserNotFound;
        u.password = op.password;
        u.noPassword = false;
        this.tokens.invalidateUser(op.name);
        return this.bump();
      }
      case 'UserGrantRole': {
        const u = this.user(op.user);
        if (!u) throw Errors.UserNotFound;
        if (op.role !== ROOT && !this.role(op.role)) throw Errors.RoleNotFound;
        if (u.roles.includes(op.role)) return {};
        u.roles = [...u.roles, op.role].sort();
        return this.bump();
      }
      case 'UserRevokeRole': {
        if (s.enabled && op.name === ROOT && op.role === ROOT) throw Errors.InvalidAuthMgmt;
        const u = this.user(op.name);
        if (!u) throw Errors.UserNotFound;
        if (!u.roles.includes(op.role)) throw Errors.RoleNotGranted;
        u.roles = u.roles.filter((r) => r !== op.role);
        return this.bump();
      }
      case 'RoleAdd':
        if (op.name === '') throw Errors.RoleEmpty;
        if (this.role(op.name)) throw Errors.RoleAlreadyExist;
        s.roles.push({ name: op.name, perms: [] });
        s.roles.sort(byName);
        return this.bump();
      case 'RoleGet': {
        if (s.enabled && !this.user(who?.user ?? '')?.roles.includes(op.role)) this.checkAdmin(who);
        const r = this.role(op.role);
        if (!r) throw Errors.RoleNotFound;
        return { perm: r.perms.map((p) => ({ ...p })) };
      }
      case 'RoleList':
        return { roles: s.roles.map((r) => r.name) };
      case 'RoleDelete': {
        if (s.enabled && op.role === ROOT) throw Errors.InvalidAuthMgmt;
        if (!this.role(op.role)) throw Errors.RoleNotFound;
        s.roles = s.roles.filter((r) => r.name !== op.role);
        for (const u of s.users) u.roles = u.roles.filter((r) => r !== op.role);
        return this.bump();
      }
      case 'RoleGrantPermission': {
        const r = this.role(op.name);
        if (!r) throw Errors.RoleNotFound;
        // Keys come back from the log as plain byte arrays.
        const perm = { permType: op.perm.permType, key: Buffer.from(op.perm.key), rangeEnd: Buffer.from(op.perm.rangeEnd) };
        const same = r.perms.find((p) => p.key.equals(perm.key) && p.rangeEnd.equals(perm.rangeEnd));
        if (same) same.permType = perm.permType;
        else r.perms = [...r.perms, perm].sort((a, b) => Buffer.compare(a.key, b.key) || Buffer.compare(a.rangeEnd, b.rangeEnd));
        return this.bump();
      }
      case 'RoleRevokePermission': {
        const r = this.role(op.role);
        if (!r) throw Errors.RoleNotFound;
        const before = r.perms.length;
        const key = Buffer.from(op.key);
        const rangeEnd = Buffer.from(op.rangeEnd);
        r.perms = r.perms.filter((p) => !(p.key.equals(key) && p.rangeEnd.equals(rangeEnd)));
        if (r.perms.length === before) throw Errors.PermissionNotGranted;
        return this.bump();
      }
    }
  }

  private bump(): Record<string, unknown> {
    this.state.revision++;
    return this.save({});
  }

  private save(resp: Record<string, unknown>): Record<string, unknown> {
    this.store.putAux(AUX_NAME, Buffer.from(encode(this.state)));
    return resp;
  }

  private load(): void {
    const raw = this.store.auxEntries(AUX_NAME).find(([n]) => n === AUX_NAME)?.[1];
    this.state = raw ? decode<State>(raw) : { enabled: false, revision: 0, users: [], roles: [] };
    for (const r of this.state.roles) r.perms = r.perms.map((p) => ({ permType: p.permType, key: Buffer.from(p.key), rangeEnd: Buffer.from(p.rangeEnd) }));
    this.tokens.clear();
  }
}

