// The Raft state machine of one member: terms, roles, elections, the log and the
// leader's replication state. Pure and deterministic: inputs are step() and tick(),
// outputs accumulate in msgs, readStates and the log until the driver collects them.
// The per-role message handling lives in step_leader.ts and step_follower.ts.

import { restoreConfig } from './confchange';
import { Config, ResolvedConfig, resolveConfig } from './config';
import { ErrProposalDropped } from './errors';
import { RaftLog } from './log';
import { VoteResult } from './quorum';
import { applyConfChange } from './membership';
import { releasePendingReadIndexMessages } from './read_index';
import { ReadOnly } from './read_only';
import { commitFromLeaderPersisted, sendPersistedNotices } from './persisted_notice';
import { bcastCommit } from './replicate';
import { stepCandidate, stepFollower } from './step_follower';
import { stepLeader } from './step_leader';
import { stepVoteRequest } from './step_vote';
import { ProgressTracker } from './tracker';
import {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NONE,
  NodeId,
  ReadState,
  SoftState,
  StateType,
} from './types';
import { bytesEqual, EMPTY_BYTES, isEmptyHardState, newMessage, voteRespType } from './util';

/** Context of a MsgVote sent because of a leadership transfer: it may break a leader lease. */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

export type CampaignType = 'pre' | 'election' | 'transfer';

export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedConfig;
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  trk: ProgressTracker;
  state = StateType.Follower;
  isLearner = false;
  msgs: Message[] = [];
  lead: NodeId = NONE;
  /** Target of an ongoing leadership transfer; proposals are dropped meanwhile. */
  leadTransferee: NodeId = NONE;
  /** Index of the latest conf change in the log; a new one waits until it is applied. */
  pendingConfIndex = 0;
  uncommittedSize = 0;
  readonly readOnly: ReadOnly;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Proposals were appended but not yet sent to followers (see flushAppends). */
  appendsPending = false;
  /** Reads that arrived before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  /** As a follower: how far the leader of this term said its log is durable (persisted_notice.ts). */
  leaderPersisted = 0;
  /** As a leader: the highest index it told a follower its log is durable through, this term. */
  persistedNoticeIndex = 0;

  constructor(c: Config) {
    this.cfg = resolveConfig(c);
    this.id = this.cfg.id;
    this.raftLog = new RaftLog(this.cfg.storage, this.cfg.maxCommittedSizePerReady);
    this.trk = new ProgressTracker(this.cfg.maxInflightMsgs);
    this.readOnly = new ReadOnly(this.cfg.readOnlyOption);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.restoreConf(confState);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (this.cfg.applied > 0) this.raftLog.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, NONE);
  }

  restoreConf(cs: ConfState): void {
    const r = restoreConfig(cs, this.raftLog.lastIndex(), this.cfg.maxInflightMsgs);
    this.trk.config = r.config;
    this.trk.progress = r.progress;
    this.isLearner = this.trk.progress.get(this.id)?.isLearner ?? false;
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new Error(`${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  // ---- sending ----

  send(m: Message): void {
    // A forwarded message (e.g. a transfer request naming its transferee in `from`) keeps its origin.
    if (m.from === NONE) m.from = this.id;
    const t = m.type;
    if (t === MessageType.Vote || t === MessageType.VoteResp || t === MessageType.PreVote || t === MessageType.PreVoteResp) {
      // Vote messages carry the term they are about, which may differ from ours.
      if (m.term === 0) throw new Error(`term should be set when sending ${MessageType[t]}`);
    } else if (t !== MessageType.Prop && t !== MessageType.ReadIndex) {
      // Forwarded proposals and reads keep term 0: the leader treats them as local.
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- commit and apply ----

  /** Advances commit to what a quorum has persisted, if that entry is of our term (Raft figure 8). */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOr0(this.raftLog.committed) === this.term;
  }

  /**
   * The driver persisted entries up to (i, t): a leader may now count its own
   * acknowledgement, and a follower may commit what its leader said it persisted.
   */
  stableTo(i: number, t: number): void {
    this.raftLog.stableTo(i, t);
    if (this.state !== StateType.Leader) return commitFromLeaderPersisted(this);
    const pr = this.trk.progress.get(this.id);
    if (!pr || !pr.maybeUpdate(this.raftLog.persistedIndex())) return;
    if (this.maybeCommit()) {
      releasePendingReadIndexMessages(this);
      bcastCommit(this);
    }
    if (this.cfg.leaderPersistedNotice) sendPersistedNotices(this);
  }

  /** The driver applied up to index; a leader in an auto-leave joint config proposes leaving it. */
  appliedTo(index: number): void {
    this.raftLog.appliedTo(index);
    if (this.trk.config.autoLeave && this.raftLog.applied >= this.pendingConfIndex && this.state === StateType.Leader) {
      const m = newMessage(MessageType.Prop, NONE, this.id);
      m.entries = [{ term: 0, index: 0, type: EntryType.ConfChange, data: LEAVE_JOINT_DATA }];
      try {
        this.step(m);
      } catch (e) {
        // Dropped (e.g. during a transfer): retried on a later advance.
        if (!(e instanceof ErrProposalDropped)) throw e;
      }
    }
  }

  /** Appends proposals as the leader; false if the uncommitted-size quota would overflow. */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    let size = 0;
    for (let k = 0; k < es.length; k++) size += es[k]!.data.length;
    if (this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.cfg.maxUncommittedEntriesSize) {
      return false;
    }
    this.uncommittedSize += size;
    for (let k = 0; k < es.length; k++) {
      const e = es[k]!;
      e.term = this.term;
      e.index = ++li;
    }
    this.raftLog.append(es);
    // Our own acknowledgement is counted only once the driver persisted these (stableTo).
    return true;
  }

  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSize === 0) return;
    let s = 0;
    for (let k = 0; k < ents.length; k++) s += ents[k]!.data.length;
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  /** Applies a committed membership change; see membership.ts. */
  applyConfChange(cc: ConfChange): ConfState {
    return applyConfChange(this, cc);
  }

  // ---- roles ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const next = this.raftLog.lastIndex() + 1;
    for (const [id, pr] of this.trk.progress) {
      pr.resetForTerm(next);
      if (id === this.id) pr.match = this.raftLog.persistedIndex();
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly.reset();
    this.pendingReadIndexMessages = [];
    this.appendsPending = false;
    this.leaderPersisted = 0;
    this.persistedNoticeIndex = 0;
  }

  resetRandomizedElectionTimeout(): void {
    const e = this.cfg.electionTick;
    this.randomizedElectionTimeout = e + Math.floor(this.cfg.rand() * e);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  becomePreCandidate(): void {
    if (this.state === StateType.Leader) throw new Error('invalid transition [leader -> pre-candidate]');
    // Neither term nor vote changes: a pre-vote is a question, not a campaign.
    this.trk.resetVotes();
    this.state = StateType.PreCandidate;
    this.lead = NONE;
  }

  becomeCandidate(): void {
    if (this.state === StateType.Leader) throw new Error('invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
  }

  becomeLeader(): void {
    if (this.state === StateType.Follower) throw new Error('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    this.trk.progress.get(this.id)?.becomeReplicate();
    // Conservatively assume the log's tail may hold an unapplied conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An entry of our own term lets older entries commit and reads be served.
    this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
  }

  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  /** Committed but unapplied conf changes: campaigning now could use a stale configuration. */
  hasUnappliedConfChanges(): boolean {
    const log = this.raftLog;
    if (log.committed <= log.applied) return false;
    const lo = Math.max(log.applied + 1, log.firstIndex());
    const ents = log.slice(lo, log.committed + 1, Infinity);
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  campaign(t: CampaignType): void {
    if (!this.promotable()) return;
    let voteMsg: MessageType;
    let term: number;
    if (t === 'pre') {
      this.becomePreCandidate();
      voteMsg = MessageType.PreVote;
      // Ask about the term we would move to, without moving yet.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, voteRespType(voteMsg), true) === 'won') {
      // A single-voter configuration wins on its own vote.
      if (t === 'pre') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      const m = newMessage(voteMsg, id);
      m.term = term;
      m.index = lastIndex;
      m.logTerm = lastTerm;
      if (t === 'transfer') m.context = CAMPAIGN_TRANSFER;
      this.send(m);
    }
  }

  poll(id: NodeId, _t: MessageType, granted: boolean): VoteResult {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes();
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- step ----

  step(m: Message): void {
    if (m.term === 0) {
      // Local message (or a forwarded proposal/read): no term handling.
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTick;
        // While we hear from a live leader, a vote request is most likely from a
        // partitioned member rejoining: ignoring it keeps the leader in place.
        if (!force && inLease) return;
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // The future term of a granted pre-vote; we move there only when we win it.
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap || m.type === MessageType.LeaderPersisted) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A stale leader (e.g. back from a partition) learns our term and steps down;
        // without this it could never notice, since we ignore it otherwise.
        this.send(newMessage(MessageType.AppResp, m.from));
      } else if (m.type === MessageType.PreVote) {
        const r = newMessage(MessageType.PreVoteResp, m.from);
        r.term = this.term;
        r.reject = true;
        this.send(r);
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        if (this.state !== StateType.Leader && this.promotable() && !this.hasUnappliedConfChanges()) {
          this.campaign(this.cfg.preVote ? 'pre' : 'election');
        }
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        return stepVoteRequest(this, m);
      default:
        switch (this.state) {
          case StateType.Leader:
            return stepLeader(this, m);
          case StateType.Follower:
            return stepFollower(this, m);
          default:
            return stepCandidate(this, m);
        }
    }
  }
}

/** An encoded empty ConfChange: "leave the joint configuration". */
const LEAVE_JOINT_DATA = new TextEncoder().encode('{"t":0,"c":[],"x":""}');
