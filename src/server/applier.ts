// Applies committed Raft entries to the state machine, in order: MVCC writes,
// member attributes, membership changes, leases and alarms (an active alarm
// refuses some writes here, at apply time, on every member alike). Entries the
// MVCC store already holds (at or below its consistent index, after a crash or
// a snapshot that ran ahead of the Raft snapshot index) are skipped for the
// store but still fed to Raft's configuration, which lives outside the store.
import { decodeConfChange } from '../raft/confchange';
import { ConfChangeType, ConfState, Entry, EntryType } from '../raft/types';
import type { MvccStore } from '../mvcc/store';
import type { WriteResponse } from '../mvcc/types';
import type { Logger } from '../log';
import { isEtcdError } from '../errors';
import type { Membership } from './membership';
import { decodeProposal, type Operation } from './proposal';
import type { RequestId } from './wait';
import type { WaitRegistry } from './wait';
import type { RawNode } from '../raft/rawnode';
import type { Lessor } from '../lease/lessor';
import type { AlarmStore } from './alarms';
import { decodeConfContext } from './conf-context';
import type { AuthStore } from '../auth/auth-store';
import { checkLeaseRevoke, checkWrite, type LeaseKeys } from '../auth/request-perms';

export interface ApplyResult {
  /** Raft's configuration after the last conf change in the batch, if any. */
  confState?: ConfState;
  membershipChanged: boolean;
}

export class Applier {
  constructor(
    private readonly node: RawNode,
    private readonly store: MvccStore,
    private readonly membership: Membership,
    private readonly waits: WaitRegistry,
    private readonly logger: Logger,
    private readonly lessor?: Lessor,
    private readonly alarms?: AlarmStore,
    private readonly auth?: AuthStore,
  ) {}

  /** Keys attached to a lease, for the auth checks on Put and LeaseRevoke. */
  private readonly leaseKeys: LeaseKeys = (id) => [...(this.lessor?.get(id)?.keys ?? [])].map((k) => Buffer.from(k, 'latin1'));

  applyEntries(entries: Entry[]): ApplyResult {
    const result: ApplyResult = { membershipChanged: false };
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) {
        this.applyConfChange(e, result);
        continue;
      }
      if (e.index <= this.store.consistentIndex()) continue;
      if (e.data.length === 0) {
        // The empty entry a new leader appends: nothing to do but note it applied.
        this.store.setConsistentIndex(e.index);
        continue;
      }
      const { id, op } = decodeProposal(e.data);
      switch (op.kind) {
        case 'write': {
          let resp: WriteResponse;
          try {
            if (this.alarms?.restrictive) {
              const refused = this.alarms.refusal(op.req);
              if (refused) throw refused;
            }
            if (this.auth?.enabled) checkWrite(this.auth, op.who, op.req, this.leaseKeys);
            resp = this.store.applyWrite(op.req, e.index);
          } catch (err) {
            this.refuse(id, e.index, err);
            continue;
          }
          this.waits.trigger(id, resp);
          break;
        }
        case 'publish':
          if (this.membership.publish(op.memberId, op.attrs)) result.membershipChanged = true;
          this.store.setConsistentIndex(e.index);
          this.waits.trigger(id, undefined);
          break;
        case 'leaseGrant':
        case 'leaseRevoke':
          this.applyLease(op, id, e.index);
          break;
        case 'auth':
          try {
            if (!this.auth) throw new Error('auth entry without an auth store');
            const resp = this.auth.apply(op.op, op.who, e.index);
            this.store.setConsistentIndex(e.index);
            this.waits.trigger(id, resp);
          } catch (err) {
            this.refuse(id, e.index, err);
          }
          break;
        case 'alarm': {
          const alarms = this.alarms?.apply(op.action, op.memberId, op.alarm) ?? [];
          this.store.setConsistentIndex(e.index);
          this.waits.trigger(id, alarms);
          break;
        }
        default:
          this.logger.error({ index: e.index }, 'unknown operation in a committed entry; skipped');
          this.store.setConsistentIndex(e.index);
      }
    }
    return result;
  }

  /**
   * A conf change goes to Raft's configuration always, and to the member list
   * when a client's request carries the member (bootstrap entries carry none).
   * The list changes idempotently, so replaying entries the saved list already
   * reflects (after a restart) changes nothing; validity was checked when the
   * change was proposed, and Raft too ignores a change that is already in effect.
   */
  private applyConfChange(e: Entry, result: ApplyResult): void {
    const cc = decodeConfChange(e.data);
    const ctx = decodeConfContext(cc.context);
    if (ctx) {
      for (const c of cc.changes) {
        let changed = false;
        if (c.type === ConfChangeType.AddNode) changed = ctx.promote ? this.membership.promote(c.nodeId) : this.membership.add({ ...ctx.member, isLearner: false });
        else if (c.type === ConfChangeType.AddLearnerNode) changed = this.membership.add({ ...ctx.member, isLearner: true });
        else if (c.type === ConfChangeType.UpdateNode) changed = this.membership.updatePeerUrls(c.nodeId, ctx.member.peerUrls);
        else if (c.type === ConfChangeType.RemoveNode) changed = this.membership.remove(c.nodeId);
        if (changed) result.membershipChanged = true;
      }
    }
    result.confState = this.node.applyConfChange(cc);
    this.store.setConsistentIndex(e.index);
    if (ctx) this.waits.trigger(ctx.request, this.membership.list());
  }

  /** Lease entries change the lessor and (revoke) the store; a refused one changes nothing. */
  private applyLease(op: Operation, id: RequestId, index: number): void {
    try {
      if (!this.lessor) throw new Error('lease entry without a lessor');
      const refused = this.alarms?.leaseRefusal(op.kind === 'leaseGrant');
      if (refused) throw refused;
      if (op.kind === 'leaseRevoke' && !op.expired && this.auth?.enabled) checkLeaseRevoke(this.auth, op.who, op.id, this.leaseKeys);
      if (op.kind === 'leaseGrant') {
        const l = this.lessor.applyGrant(op.id, op.ttl);
        this.store.setConsistentIndex(index);
        this.waits.trigger(id, { id: l.id, ttl: l.ttl, revision: this.store.rev });
      } else if (op.kind === 'leaseRevoke') {
        this.waits.trigger(id, { revision: this.lessor.applyRevoke(op.id, index) });
      }
    } catch (err) {
      this.refuse(id, index, err);
    }
  }

  /**
   * A request refused at apply time (an etcd error) changes nothing but still
   * uses its index, and its caller gets the error; anything else is a bug and
   * stops the loop.
   */
  private refuse(id: RequestId, index: number, err: unknown): void {
    this.store.setConsistentIndex(index);
    if (isEtcdError(err)) this.waits.fail(id, err);
    else throw err;
  }
}
