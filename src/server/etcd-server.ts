// The KV state machine as clients see it: writes proposed through Raft and
// answered when applied; linearizable reads released by a ReadIndex round;
// serializable reads served from local state. Every answer carries the header
// values (cluster id, member id, revision, Raft term) of the moment it was made.
import { Errors } from '../errors';
import type { MvccStore } from '../mvcc/store';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WriteRequest,
  WriteResponse,
} from '../mvcc/types';
import { isTxnReadOnly } from '../mvcc/readonly';
import { NONE, NodeId } from '../raft/types';
import { ErrProposalDropped } from '../raft/errors';
import type { RaftDriver } from './raft-driver';
import type { ReadIndexBatcher } from './read-index';
import type { RequestId, WaitRegistry } from './wait';
import type { RawNode } from '../raft/rawnode';
import type { ConfChange, ConfChangeType } from '../raft/types';
import type { MemberInfo } from './membership';
import { encodeConfContext } from './conf-context';
import type { AuthInfo } from '../auth/auth-store';
import { idToDecimal } from './identity';
import { encodeProposal, Operation } from './proposal';
import { AlarmAction, AlarmType, type AlarmMember } from './alarms';
import { BackendQuota, putCost, txnCost } from './quota';

/** etcd refuses new proposals when apply lags commit by this many entries. */
export const MAX_APPLY_BACKLOG = 5000;

export interface HeaderValues {
  clusterId: NodeId;
  memberId: NodeId;
  revision: number;
  raftTerm: number;
}

export class EtcdServer {
  constructor(
    readonly memberId: NodeId,
    readonly clusterId: NodeId,
    private readonly store: MvccStore,
    private readonly driver: RaftDriver,
    private readonly reads: ReadIndexBatcher,
    private readonly waits: WaitRegistry,
    private readonly opts: { maxRequestBytes: number; requestTimeoutMs: number; quota?: BackendQuota },
  ) {}

  header(): HeaderValues {
    return { clusterId: this.clusterId, memberId: this.memberId, revision: this.store.rev, raftTerm: this.driver.term() };
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    if (!req.serializable) await this.linearizableBarrier();
    return this.store.range(req);
  }

  /** `who`: the caller when auth is on; its permissions are checked when the entry is applied. */
  async put(req: PutRequest, who?: AuthInfo): Promise<PutResponse> {
    if (!this.fits(putCost(req))) await this.refuseForSpace();
    return ((await this.write({ put: req }, who)) as { put: PutResponse }).put;
  }

  async deleteRange(req: DeleteRangeRequest, who?: AuthInfo): Promise<DeleteRangeResponse> {
    return ((await this.write({ deleteRange: req }, who)) as { deleteRange: DeleteRangeResponse }).deleteRange;
  }

  async txn(req: TxnRequest, who?: AuthInfo): Promise<TxnResponse> {
    // A txn that can only read is served on the read path, as etcd does.
    if (isTxnReadOnly(req)) {
      await this.linearizableBarrier();
      return this.store.readTxn(req);
    }
    if (!this.fits(txnCost(req))) await this.refuseForSpace();
    return ((await this.write({ txn: req }, who)) as { txn: TxnResponse }).txn;
  }

  async compact(req: CompactionRequest): Promise<CompactionResponse> {
    // An already compacted revision fails fast without a proposal: the compacted
    // revision only grows, so applying would fail too. A revision beyond this
    // member's is not refused here: it may be a write this member has not
    // applied yet (a client that wrote through another member). Apply decides.
    if (req.revision <= this.store.compactRev) throw Errors.Compacted;
    const resp = ((await this.write({ compaction: req })) as { compaction: CompactionResponse }).compaction;
    if (req.physical) await resp.physical;
    return resp;
  }

  /** An Alarm request, applied through Raft (GET too, as etcd does); the response's alarms. */
  alarm(action: number, memberId: string, alarm: number): Promise<AlarmMember[]> {
    return this.propose({ kind: 'alarm', action, memberId, alarm }) as Promise<AlarmMember[]>;
  }

  /** Whether a request of this cost fits the backend quota (checked in line: puts are the hot path). */
  fits(cost: number): boolean {
    return this.opts.quota?.available(cost) ?? true;
  }

  /**
   * What etcd's quota servers do with a request that would take the store past
   * its quota, before proposing it: this member raises the NOSPACE alarm
   * (waiting for it to apply, its outcome aside), and the client gets
   * "database space exceeded". Always throws.
   */
  async refuseForSpace(): Promise<never> {
    await this.alarm(AlarmAction.ACTIVATE, idToDecimal(this.memberId), AlarmType.NOSPACE).catch(() => undefined);
    throw Errors.NoSpace;
  }

  /** Proposes any operation and waits until this member applied it. */
  async propose(op: Operation): Promise<unknown> {
    if (this.driver.leader === NONE) throw Errors.NoLeader;
    if (this.driver.committed - this.driver.appliedIndex > MAX_APPLY_BACKLOG) throw Errors.TooManyRequests;
    const id = this.waits.nextId();
    const data = encodeProposal(id, op);
    if (data.length > this.opts.maxRequestBytes) throw Errors.RequestTooLarge;
    return this.submit(id, (n) => n.propose(data));
  }

  /**
   * Proposes a membership change for `member` and resolves with the member list
   * once it is applied here. While another change is pending, Raft turns this
   * one into an empty entry (as etcd's does), and the request times out.
   */
  async proposeConfChange(type: ConfChangeType, member: MemberInfo, promote: boolean): Promise<MemberInfo[]> {
    if (this.driver.leader === NONE) throw Errors.NoLeader;
    const id = this.waits.nextId();
    const cc: ConfChange = { transition: 0, changes: [{ type, nodeId: member.id }], context: encodeConfContext({ request: id, member, promote }) };
    return (await this.submit(id, (n) => n.proposeConfChange(cc))) as MemberInfo[];
  }

  /** Hands a proposal to Raft and waits for its entry to be applied (or the request timeout). */
  private submit(id: RequestId, hand: (n: RawNode) => void): Promise<unknown> {
    const leaderAtStart = this.driver.leader;
    const done = this.waits.wait(id, this.opts.requestTimeoutMs, () =>
      this.driver.leader !== leaderAtStart ? Errors.TimeoutDueToLeaderFail : Errors.Timeout,
    );
    try {
      this.driver.withNode(hand);
    } catch (e) {
      this.waits.fail(id, e instanceof ErrProposalDropped ? Errors.NoLeader : (e as Error));
    }
    return done;
  }

  private write(req: WriteRequest, who?: AuthInfo): Promise<WriteResponse> {
    return this.propose(who ? { kind: 'write', req, who } : { kind: 'write', req }) as Promise<WriteResponse>;
  }

  /** Returns once local state reflects every write acknowledged before the call. */
  private async linearizableBarrier(): Promise<void> {
    if (this.driver.leader === NONE) throw Errors.NoLeader;
    await this.reads.waitReadable();
  }
}
