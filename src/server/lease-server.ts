// The Lease service's server side: grant and revoke go through Raft (so every
// member applies them); keepalive and TimeToLive are answered by the leader's
// lessor, reached by forwarding from followers (see api/leader-client.ts);
// the leader revokes expired leases through Raft, a bounded number per tick.
import { randomBytes } from 'node:crypto';
import { Errors } from '../errors';
import { Lessor, MAX_LEASE_TTL } from '../lease/lessor';
import type { Logger } from '../log';
import { NONE } from '../raft/types';
import type { EtcdServer } from './etcd-server';
import type { Membership } from './membership';
import { LEASE_GRANT_COST } from './quota';
import type { AuthInfo } from '../auth/auth-store';
import type { RaftDriver } from './raft-driver';

/** How often the leader looks for expired leases (etcd checks every 500 ms). */
const EXPIRY_CHECK_MS = 500;
/** Revokes proposed per check (etcd's leaseRevokeRate is 1000/s). */
const REVOKES_PER_CHECK = 500;
/** Pause between forwarding attempts while a leader is being elected or unreachable. */
const FORWARD_RETRY_MS = 50;

export interface TimeToLiveAnswer {
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

/** A connection to the leader's client API (api/leader-client.ts), for what only its lessor can answer. */
export interface LeaderLink {
  readonly target: string;
  keepAlive(id: bigint, timeoutMs: number): Promise<number>;
  timeToLive(id: bigint, keys: boolean, timeoutMs: number): Promise<TimeToLiveAnswer>;
  close(): void;
}

export interface LeaseServerOptions {
  /** Opens a link to the leader at a client address (host:port). */
  dial: (target: string) => LeaderLink;
  /** ceil(1.5 x election timeout) seconds: shorter TTLs could expire during an election. */
  minTtl: number;
  /** Extra time a new leader adds on promotion (etcd: one election timeout). */
  promoteExtendMs: number;
  requestTimeoutMs: number;
  logger: Logger;
}

export class LeaseServer {
  private timer: NodeJS.Timeout | undefined;
  private readonly revoking = new Set<bigint>();
  private leaderClient: LeaderLink | undefined;

  constructor(
    private readonly server: EtcdServer,
    readonly lessor: Lessor,
    private readonly driver: RaftDriver,
    private readonly membership: Membership,
    private readonly opts: LeaseServerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.revokeExpired(), EXPIRY_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.leaderClient?.close();
    this.lessor.close();
  }

  /** Raft hook: the leader alone keeps expiry clocks. */
  onLeaderChange(): void {
    if (this.driver.isLeader) {
      if (!this.lessor.isPrimary) {
        this.lessor.promote(this.opts.promoteExtendMs);
        this.opts.logger.info({ leases: this.lessor.ids().length }, 'lessor promoted: lease TTLs restarted');
      }
    } else if (this.lessor.isPrimary) {
      this.lessor.demote();
    }
  }

  async grant(requestedId: bigint, ttl: number): Promise<{ id: bigint; ttl: number; revision: number }> {
    if (!this.server.fits(LEASE_GRANT_COST)) await this.server.refuseForSpace();
    if (ttl > MAX_LEASE_TTL) throw Errors.LeaseTTLTooLarge;
    const id = requestedId !== 0n ? requestedId : randomLeaseId();
    // Raised here, not at apply, so every member applies the same TTL whatever its own flags.
    const granted = Math.max(ttl, this.opts.minTtl);
    return (await this.server.propose({ kind: 'leaseGrant', id, ttl: granted })) as { id: bigint; ttl: number; revision: number };
  }

  async revoke(id: bigint, who?: AuthInfo): Promise<{ revision: number }> {
    return (await this.server.propose(who ? { kind: 'leaseRevoke', id, who } : { kind: 'leaseRevoke', id })) as { revision: number };
  }

  /** The granted TTL after renewal, or 0 for an unknown or expired lease (not an error, as etcd). */
  keepAlive(id: bigint, forwarded: boolean): Promise<number> {
    return this.onLeader(
      () => this.lessor.renew(id),
      (c, ms) => c.keepAlive(id, ms),
      forwarded,
    );
  }

  /** Remaining and granted TTL; TTL -1 for an unknown lease. */
  timeToLive(id: bigint, withKeys: boolean, forwarded: boolean): Promise<TimeToLiveAnswer> {
    return this.onLeader(
      () => {
        const l = this.lessor.get(id);
        if (!l) return { ttl: -1, grantedTtl: 0, keys: [] };
        const keys = withKeys ? [...l.keys].sort().map((k) => Buffer.from(k, 'latin1')) : [];
        return { ttl: this.lessor.remaining(l), grantedTtl: l.ttl, keys };
      },
      (c, ms) => c.timeToLive(id, withKeys, ms),
      forwarded,
    );
  }

  leases(): bigint[] {
    return this.lessor.ids();
  }

  /**
   * Runs local on the leader, or forwards to it, retrying (as etcd's
   * LeaseRenew does) until the request timeout while there is no leader or it
   * cannot be reached. A forwarded request never forwards again.
   */
  private async onLeader<T>(local: () => T, remote: (c: LeaderLink, timeoutMs: number) => Promise<T>, forwarded: boolean): Promise<T> {
    const deadline = Date.now() + this.opts.requestTimeoutMs;
    let lastErr: unknown = Errors.NoLeader;
    for (let attempt = 0; attempt < 10_000; attempt++) {
      if (this.driver.isLeader && this.lessor.isPrimary) return local();
      if (forwarded) throw Errors.NoLeader;
      const c = this.clientForLeader();
      if (c) {
        try {
          return await remote(c, Math.max(1, deadline - Date.now()));
        } catch (e) {
          lastErr = e;
        }
      }
      if (Date.now() + FORWARD_RETRY_MS > deadline) break;
      await new Promise((r) => setTimeout(r, FORWARD_RETRY_MS));
    }
    throw lastErr === Errors.NoLeader || lastErr === Errors.Stopped ? lastErr : Errors.Timeout;
  }

  private clientForLeader(): LeaderLink | undefined {
    const lead = this.driver.leader;
    if (lead === NONE) return undefined;
    const url = this.membership.get(lead)?.clientUrls[0];
    if (!url) return undefined;
    const target = new URL(url).host;
    if (this.leaderClient?.target !== target) {
      this.leaderClient?.close();
      this.leaderClient = this.opts.dial(target);
    }
    return this.leaderClient;
  }

  private revokeExpired(): void {
    if (!this.driver.isLeader) return;
    for (const id of this.lessor.expired(REVOKES_PER_CHECK + this.revoking.size)) {
      if (this.revoking.has(id) || this.revoking.size >= REVOKES_PER_CHECK) continue;
      this.revoking.add(id);
      this.server.propose({ kind: 'leaseRevoke', id, expired: true }).then(
        () => this.revoking.delete(id),
        (err: unknown) => {
          // Retried at the next check if it is still ours to revoke.
          this.revoking.delete(id);
          if (err !== Errors.LeaseNotFound) this.opts.logger.warn({ lease: id.toString(), err }, 'revoking an expired lease failed');
        },
      );
    }
  }
}

/** A positive int64, as etcd's request-id generator gives (never 0 = no lease). */
function randomLeaseId(): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE(0) & 0x7fffffffffffffffn;
    if (id !== 0n) return id;
  }
}
