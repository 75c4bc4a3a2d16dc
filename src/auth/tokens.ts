// etcd's simple tokens: "<16 random letters>.<raft index>", made when an
// Authenticate entry is applied, so every member knows every token. They live
// in memory only and lapse after --auth-token-ttl (300 s) without use; each
// use restarts the clock. Disabling auth, deleting a user or changing its
// password ends its tokens.
import { randomBytes } from 'node:crypto';

export const TOKEN_TTL_MS = 300_000;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The random part, chosen by the member that takes the Authenticate call. */
export function tokenPrefix(): string {
  return [...randomBytes(16)].map((b) => LETTERS[b % LETTERS.length]).join('');
}

export class TokenKeeper {
  private readonly tokens = new Map<string, { user: string; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  assign(token: string, user: string): void {
    if (this.tokens.size > 10_000) for (const [t, v] of this.tokens) if (v.expires <= this.now()) this.tokens.delete(t);
    this.tokens.set(token, { user, expires: this.now() + TOKEN_TTL_MS });
  }

  /** The token's user (its lifetime renewed), or undefined for an unknown or lapsed token. */
  user(token: string): string | undefined {
    const t = this.tokens.get(token);
    if (!t) return undefined;
    if (t.expires <= this.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    t.expires = this.now() + TOKEN_TTL_MS;
    return t.user;
  }

  invalidateUser(user: string): void {
    for (const [t, v] of this.tokens) if (v.user === user) this.tokens.delete(t);
  }

  clear(): void {
    this.tokens.clear();
  }
}
