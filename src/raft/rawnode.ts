// RawNode: the synchronous driver API over the Raft state machine. The server calls
// tick/step/propose..., then loops { if (hasReady()) { rd = ready(); persist; send;
// apply; advance(rd) } }. Nothing here blocks, awaits or reads a clock.

import { encodeConfChange } from './confchange';
import { Config } from './config';
import { ErrProposalDropped, ErrStepLocalMsg } from './errors';
import { Raft } from './raft';
import { flushAppends } from './replicate';
import { getStatus, Status } from './status';
import { tick } from './tick';
import {
  ConfChange,
  ConfChangeType,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NONE,
  NodeId,
  Ready,
  SoftState,
  StateType,
} from './types';
import { EMPTY_BYTES, hardStateEqual, isLocalMsg, isResponseMsg, newMessage } from './util';

export class RawNode {
  readonly raft: Raft;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;
  /** A Ready was handed out and advance() has not been called for it yet. */
  private inFlight = false;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftSt = this.raft.softState();
    this.prevHardSt = this.raft.hardState();
  }

  /**
   * Seeds a brand-new cluster's log with one AddNode conf change per initial voter, at
   * term 1 and already committed. The storage must be empty. The entries come out in the
   * first Ready (to persist) and, after advance, as committed entries; applying them
   * again with applyConfChange is harmless.
   */
  bootstrap(peers: NodeId[]): void {
    if (peers.length === 0) throw new Error('must provide at least one peer to bootstrap');
    const r = this.raft;
    if (r.raftLog.lastIndex() !== 0) throw new Error("can't bootstrap a nonempty storage");
    // Persisting a hard state with term 1 and the entries is the driver's job, from the Ready.
    this.prevHardSt = { term: 0, vote: NONE, commit: 0 };
    r.becomeFollower(1, NONE);
    const ents: Entry[] = peers.map((id, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ transition: 0, changes: [{ type: ConfChangeType.AddNode, nodeId: id }], context: EMPTY_BYTES }),
    }));
    r.raftLog.append(ents);
    r.raftLog.committed = ents.length;
    for (const id of peers) {
      r.applyConfChange({ transition: 0, changes: [{ type: ConfChangeType.AddNode, nodeId: id }], context: EMPTY_BYTES });
    }
  }

  /** One logical clock tick: election timeout for followers, heartbeats for the leader. */
  tick(): void {
    tick(this.raft);
  }

  /** Starts an election now (pre-vote first when enabled). */
  campaign(): void {
    this.raft.step(newMessage(MessageType.Hup, NONE, this.raft.id));
  }

  /** Proposes data to be appended; throws ErrProposalDropped when it cannot be accepted now. */
  propose(data: Uint8Array): void {
    const m = newMessage(MessageType.Prop, NONE, this.raft.id);
    m.entries = [{ term: 0, index: 0, type: EntryType.Normal, data }];
    this.raft.step(m);
  }

  /** Proposes many entries in one message (one append and one broadcast). */
  proposeBatch(datas: Uint8Array[]): void {
    if (datas.length === 0) return;
    const m = newMessage(MessageType.Prop, NONE, this.raft.id);
    m.entries = datas.map((data) => ({ term: 0, index: 0, type: EntryType.Normal, data }));
    this.raft.step(m);
  }

  /** Proposes a membership change; throws ErrProposalDropped if refused (e.g. one is pending). */
  proposeConfChange(cc: ConfChange): void {
    const m = newMessage(MessageType.Prop, NONE, this.raft.id);
    m.entries = [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }];
    this.raft.step(m);
  }

  /** Applies a committed conf change (call when applying its entry); returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Feeds a message received from a peer. Local-only types are refused; responses from
   * members no longer in the configuration, and forwarded proposals that cannot be
   * accepted, are dropped silently (the proposer times out and retries).
   */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw new ErrStepLocalMsg();
    if (isResponseMsg(m.type) && !this.raft.trk.progress.has(m.from) && this.raft.state === StateType.Leader) return;
    try {
      this.raft.step(m);
    } catch (e) {
      if (!(e instanceof ErrProposalDropped)) throw e;
    }
  }

  /**
   * Asks for a linearizable read point. The answer arrives as a ReadState carrying ctx
   * in a later Ready; use a fresh ctx per attempt. Dropped silently without a leader.
   */
  readIndex(ctx: Uint8Array): void {
    const m = newMessage(MessageType.ReadIndex, NONE);
    m.context = ctx;
    this.raft.step(m);
  }

  /** Asks the leader to hand leadership to `transferee`. */
  transferLeader(transferee: NodeId): void {
    const m = newMessage(MessageType.TransferLeader, this.raft.lead, transferee);
    this.raft.step(m);
  }

  /** The transport could not reach `id`: stop streaming to it optimistically. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage(MessageType.Unreachable, NONE, id));
  }

  /**
   * The stream from `leader` broke (its process most likely died). As etcd's
   * MsgForgetLeader, a follower forgets it: with check-quorum it would otherwise
   * refuse every pre-vote for an election timeout, defending a leader it has
   * reason to think dead. It also counts its election timeout as already spent,
   * so it campaigns after the random part only. Safety never rests on timing: if
   * the leader lives, its next heartbeat makes it our leader again, and members
   * still hearing from it refuse our pre-vote, so it is not disrupted.
   */
  forgetLeader(leader: NodeId): void {
    const r = this.raft;
    if (leader === NONE || r.state !== StateType.Follower || r.lead !== leader) return;
    r.lead = NONE;
    r.electionElapsed = Math.max(r.electionElapsed, r.cfg.electionTick);
  }

  /** The transport finished (ok) or failed to send a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const m = newMessage(MessageType.SnapStatus, NONE, id);
    m.reject = !ok;
    this.raft.step(m);
  }

  status(): Status {
    return getStatus(this.raft);
  }

  hasReady(): boolean {
    if (this.inFlight) return false;
    const r = this.raft;
    if (r.appendsPending) return true;
    // Field comparisons, not fresh SoftState/HardState objects: this runs every loop turn.
    if (r.lead !== this.prevSoftSt.lead || r.state !== this.prevSoftSt.raftState) return true;
    const ph = this.prevHardSt;
    if (r.term !== ph.term || r.vote !== ph.vote || r.raftLog.committed !== ph.commit) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstable.length > 0 || r.raftLog.hasNextCommittedEnts()) return true;
    return r.readStates.length > 0;
  }

  /**
   * Collects everything that happened since the last Ready. Rules for the driver:
   *  1. Persist `snapshot` (if any), then `entries` (an entry at index i replaces any
   *     persisted entry >= i), then `hardState`; fsync when `mustSync`.
   *  2. Only then send `messages`. Responses and votes in it describe state that is
   *     durable only after step 1; sending them earlier could lose an acknowledged
   *     entry or a vote in a crash. (A leader's own acknowledgement is counted only in
   *     advance(), so commit never outruns its own disk either.)
   *  3. Apply `snapshot` then `committedEntries` (they are durable locally: they were
   *     persisted by an earlier Ready, or by this one in step 1).
   *  4. Call advance(rd). No further Ready is produced until then.
   */
  ready(): Ready {
    if (this.inFlight) throw new Error('ready() called again before advance()');
    const r = this.raft;
    flushAppends(r);
    const log = r.raftLog;
    const rd: Ready = {
      readStates: r.readStates,
      entries: log.unstable.all(),
      committedEntries: log.nextCommittedEnts(),
      messages: r.msgs,
      mustSync: false,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftSt.lead || ss.raftState !== this.prevSoftSt.raftState) {
      rd.softState = ss;
      this.prevSoftSt = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardSt)) {
      rd.hardState = hs;
      rd.mustSync = hs.term !== this.prevHardSt.term || hs.vote !== this.prevHardSt.vote;
      this.prevHardSt = hs;
    }
    if (log.unstable.snapshot) {
      rd.snapshot = log.unstable.snapshot;
      rd.mustSync = true;
    }
    if (rd.entries.length > 0) rd.mustSync = true;
    if (rd.committedEntries.length > 0) {
      log.applying = rd.committedEntries[rd.committedEntries.length - 1]!.index;
      if (r.state === StateType.Leader) r.reduceUncommittedSize(rd.committedEntries);
    }
    r.msgs = [];
    r.readStates = [];
    this.inFlight = true;
    return rd;
  }

  /** The driver persisted, sent and applied `rd`. */
  advance(rd: Ready): void {
    if (!this.inFlight) throw new Error('advance() without a ready()');
    this.inFlight = false;
    const r = this.raft;
    if (rd.snapshot) {
      r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
      r.appliedTo(rd.snapshot.metadata.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      r.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    }
  }
}
