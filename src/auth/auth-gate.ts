// Who is calling, from the `token` metadata of a call (etcd's AuthInfoFromCtx):
// no token is no one (refused later where auth is on and the call needs a
// user); a token this member does not know is refused at once, with auth on
// or off, as etcd does. A known token names its user at the store's current
// revision; a change to the store before the call's entry is applied then
// fails the write with "revision of auth store is old", and the client logs in
// again.
import { EtcdError, Errors } from '../errors';
import type { AuthInfo, AuthStore } from './auth-store';
import { READ } from './range-perm';
import { checkRange, checkTxn } from './request-perms';
import type { RangeRequest, TxnRequest } from '../mvcc/types';

/** The metadata key clients send their token in (see api/call-token.ts). */
export const TOKEN_KEY = 'token';

const RAW = new Map<unknown, unknown>([
  [Errors.PermissionDenied, Errors.RawPermissionDenied],
  [Errors.UserEmpty, Errors.RawUserEmpty],
  [Errors.UserNotFound, Errors.RawUserNotFound],
  [Errors.InvalidAuthToken, Errors.RawInvalidAuthToken],
]);

/** Go's names of gRPC codes, as a status error's text carries them. */
const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** How long a call waits for this member to apply the Authenticate entry its token comes from. */
const TOKEN_WAIT_MS = 5000;
const TOKEN_POLL_MS = 5;

export class AuthGate {
  constructor(
    readonly store: AuthStore,
    /** The index this member has applied (a token names the index of its Authenticate entry). */
    private readonly appliedIndex: () => number = () => Infinity,
  ) {}

  /**
   * Who calls. A client may use its token on a member that has not applied the
   * Authenticate entry yet: as etcd, the call then waits (up to 5 s) until this
   * member has applied the index the token names. Without a token: no one.
   */
  async who(token: string | undefined): Promise<AuthInfo | undefined> {
    if (token === undefined) return undefined;
    const index = Number(token.slice(token.lastIndexOf('.') + 1));
    for (let waited = 0; this.store.tokens.user(token) === undefined && index > this.appliedIndex() && waited < TOKEN_WAIT_MS; waited += TOKEN_POLL_MS) {
      await new Promise((r) => setTimeout(r, TOKEN_POLL_MS));
    }
    const user = this.store.tokens.user(token);
    if (user === undefined) throw Errors.InvalidAuthToken;
    return { user, revision: this.store.revision };
  }

  /** who(), with nothing to await for a call without a token (the hot path when auth is off). */
  identify(token: string | undefined): Promise<AuthInfo | undefined> | undefined {
    return token === undefined ? undefined : this.who(token);
  }

  /** The caller as a write's entry carries it: only while auth is on (it is checked at apply). */
  author(who: AuthInfo | undefined): AuthInfo | undefined {
    return this.store.enabled ? who : undefined;
  }

  /** Admin calls (membership changes) with auth on. */
  async requireAdmin(token: string | undefined): Promise<void> {
    this.store.checkAdmin(await this.who(token));
  }

  /** The admin check of Defragment, Hash, HashKV and Snapshot, whose errors etcd 3.4 sends unmapped. */
  async requireAdminRaw(token: string | undefined): Promise<void> {
    try {
      await this.requireAdmin(token);
    } catch (e) {
      throw RAW.get(e) ?? e;
    }
  }

  checkRange(who: AuthInfo | undefined, r: RangeRequest): void {
    if (this.store.enabled) checkRange(this.store, who, r);
  }

  /** A read-only txn, served on the read path. */
  checkReadTxn(who: AuthInfo | undefined, t: TxnRequest): void {
    if (this.store.enabled) checkTxn(this.store, who, t, () => []);
  }

  /** Whether a watch on this range may be created; etcd's answer when not. */
  async watchRefusal(token: string | undefined, key: Buffer, rangeEnd: Buffer): Promise<string | undefined> {
    try {
      const who = await this.who(token);
      if (this.store.enabled) this.store.check(who, READ, key, rangeEnd);
      return undefined;
    } catch (e) {
      // etcd cancels with the check's own error, as a gRPC status text.
      const err = e instanceof EtcdError ? e : Errors.PermissionDenied;
      return `rpc error: code = ${CODE_NAMES[err.code]} desc = ${err.message}`;
    }
  }
}
