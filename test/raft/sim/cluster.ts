// Simulated members: a RawNode each over a MemoryStorage that stands for the disk.
// A crash throws away the RawNode and everything not yet persisted; a restart builds a
// new RawNode from the storage alone (hard state, persisted entries, snapshot), with the
// state machine rebuilt from the snapshot and replayed, as a real server would.

import { decodeConfChange } from '../../../src/raft/confchange';
import { ErrProposalDropped } from '../../../src/raft/errors';
import { Rand } from '../../../src/raft/prng';
import { RawNode } from '../../../src/raft/rawnode';
import { mayLeaveBeforePersist } from '../../../src/raft/util';
import { MemoryStorage } from '../../../src/raft/storage';
import { ConfState, EntryType, Message, MessageType, NodeId, Ready, StateType } from '../../../src/raft/types';
import { Checker, nextDigest } from './checker';
import { Network } from './network';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface SimOptions {
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxInflightMsgs: number;
  maxSizePerMsg: number;
  /** Per-Ready crash probability (before persisting / after persisting, before sending). */
  readyCrash: number;
  /** Probability that a leader crashes after persisting a Ready, before sending its messages. */
  leaderSendCrash: number;
  /** Send MsgApp/MsgHeartbeat/MsgSnap before persisting the Ready (allowed for leaders). */
  earlySend: boolean;
  /** Raft's deferCommitBroadcast (what members run with). */
  deferCommitBroadcast: boolean;
  /** Raft's leaderPersistedNotice (what members run with). */
  leaderPersistedNotice: boolean;
}

export class SimMember {
  rn: RawNode | undefined;
  readonly storage = new MemoryStorage();
  appliedIndex = 0;
  digest = 0;
  conf: ConfState | undefined;
  incarnation = 0;
  crashedAt = 0;

  constructor(readonly id: NodeId) {}

  get alive(): boolean {
    return this.rn !== undefined;
  }
}

export class SimCluster {
  readonly members = new Map<NodeId, SimMember>();
  readonly net: Network;
  readonly checker = new Checker();
  /** Current time in sub-rounds (several per tick). */
  now = 0;
  private seedCounter = 0;
  /** LeaderPersisted notices sent: the run must exercise that path when it is on. */
  notices = 0;

  constructor(
    readonly rand: Rand,
    readonly opts: SimOptions,
    readonly seed: number,
  ) {
    this.net = new Network(rand);
  }

  /** Creates a member; with peers it bootstraps (and persists) a new cluster's config. */
  addMember(id: NodeId, peers?: NodeId[]): SimMember {
    const m = new SimMember(id);
    this.members.set(id, m);
    this.start(m);
    if (peers) {
      m.rn!.bootstrap(peers);
      // Bootstrap is complete before the member serves: persist its first Ready.
      const rd = m.rn!.ready();
      m.storage.append(rd.entries);
      if (rd.hardState) m.storage.setHardState(rd.hardState);
      m.rn!.advance(rd);
    }
    return m;
  }

  private start(m: SimMember): void {
    const snap = m.storage.snapshot();
    m.incarnation++;
    m.rn = new RawNode({
      id: m.id,
      electionTick: this.opts.electionTick,
      heartbeatTick: this.opts.heartbeatTick,
      storage: m.storage,
      applied: snap.metadata.index,
      maxSizePerMsg: this.opts.maxSizePerMsg,
      maxInflightMsgs: this.opts.maxInflightMsgs,
      checkQuorum: this.opts.checkQuorum,
      preVote: this.opts.preVote,
      readOnlyOption: 'safe',
      deferCommitBroadcast: this.opts.deferCommitBroadcast,
      leaderPersistedNotice: this.opts.leaderPersistedNotice,
      rand: (this.seed * 7919 + ++this.seedCounter) >>> 0,
    });
    // The state machine is volatile: rebuilt from the snapshot, then replayed from the log.
    if (snap.metadata.index > 0) {
      const s = JSON.parse(dec.decode(snap.data)) as { index: number; digest: number };
      m.appliedIndex = s.index;
      m.digest = s.digest;
    } else {
      m.appliedIndex = 0;
      m.digest = 0;
    }
    m.conf = snap.metadata.index > 0 ? snap.metadata.confState : undefined;
  }

  crash(m: SimMember): void {
    m.rn = undefined;
    m.crashedAt = this.now;
  }

  restart(m: SimMember): void {
    if (!m.alive) this.start(m);
  }

  alive(): SimMember[] {
    return [...this.members.values()].filter((m) => m.alive);
  }

  /** Runs the member's Readies until it has none; may crash it midway. */
  processReadies(m: SimMember): void {
    while (m.rn && m.rn.hasReady()) this.processReady(m, m.rn.ready());
  }

  private processReady(m: SimMember, rd: Ready): void {
    const rn = m.rn!;
    // Drivers may send leader replication messages, and requests a follower
    // forwards, while the write is in flight (mayLeaveBeforePersist): exercise
    // that, including a crash right after.
    const isLeader = rn.raft.state === StateType.Leader;
    const early = this.opts.earlySend ? rd.messages.filter((msg) => mayLeaveBeforePersist(msg, isLeader)) : [];
    for (const msg of early) this.sendOne(rn, msg);
    if (this.rand() < this.opts.readyCrash) return this.crash(m); // lost before persisting
    if (rd.snapshot) {
      m.storage.applySnapshot(rd.snapshot);
    }
    const log = rn.raft.raftLog;
    for (const e of rd.entries) this.checker.sawPersisted(m.id, e, log.termAt(e.index - 1));
    m.storage.append(rd.entries);
    if (rd.hardState) m.storage.setHardState(rd.hardState);
    for (const rs of rd.readStates) this.checker.readAnswered(m.id, dec.decode(rs.requestCtx), rs.index);
    if (rd.snapshot) {
      const s = JSON.parse(dec.decode(rd.snapshot.data)) as { index: number; digest: number };
      this.checker.sawSnapshotRestore(m.id, s.index, s.digest);
      m.appliedIndex = s.index;
      m.digest = s.digest;
      m.conf = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) {
      if (e.index !== m.appliedIndex + 1) this.checker.fail(`${m.id} applied ${e.index} after ${m.appliedIndex}`);
      m.digest = nextDigest(m.digest, e);
      m.appliedIndex = e.index;
      this.checker.sawApplied(m.id, e, m.digest);
      if (e.type === EntryType.ConfChange) m.conf = rn.applyConfChange(decodeConfChange(e.data));
    }
    // Crash after persisting and applying but before sending: a leader that dies here
    // (etcd's raftBeforeLeaderSend failpoint) leaves entries of its term nowhere else.
    const crashP = rn.raft.state === StateType.Leader && rd.messages.length > 0 ? this.opts.leaderSendCrash : this.opts.readyCrash;
    if (crashP > 0 && this.rand() < crashP) return this.crash(m);
    for (const msg of rd.messages) if (!early.includes(msg)) this.sendOne(rn, msg);
    rn.advance(rd);
  }

  private sendOne(rn: RawNode, msg: Message): void {
    if (msg.type === MessageType.LeaderPersisted) this.notices++;
    if (this.net.send(msg, this.now)) return;
    if (msg.type === MessageType.Snap) rn.reportSnapshot(msg.to, false);
    else if (this.rand() < 0.2) rn.reportUnreachable(msg.to);
  }

  /** Delivers due messages in random order, then lets every live member process its Readies. */
  subRound(): void {
    this.now++;
    const lost: Message[] = [];
    for (const msg of this.net.due(this.now, lost)) {
      const to = this.members.get(msg.to);
      if (!to || !to.rn) {
        if (msg.type === MessageType.Snap) lost.push(msg);
        continue;
      }
      to.rn.step(msg);
      if (msg.type === MessageType.Snap) {
        // The transport reports a delivered snapshot to its sender.
        this.members.get(msg.from)?.rn?.reportSnapshot(msg.to, true);
      }
    }
    for (const msg of lost) this.members.get(msg.from)?.rn?.reportSnapshot(msg.to, false);
    for (const m of this.members.values()) this.processReadies(m);
    this.checkStep();
  }

  tick(): void {
    for (const m of this.members.values()) m.rn?.tick();
  }

  /** Election safety and leader completeness, after every step. */
  checkStep(): void {
    for (const m of this.members.values()) {
      const r = m.rn?.raft;
      if (!r || r.state !== StateType.Leader) continue;
      if (this.checker.sawLeader(m.id, r.term)) {
        const log = r.raftLog;
        this.checker.checkLeaderLog(m.id, r.term, (i) => log.termAt(i), log.firstIndex());
      }
    }
  }

  leader(): SimMember | undefined {
    let best: SimMember | undefined;
    for (const m of this.members.values()) {
      const r = m.rn?.raft;
      if (r && r.state === StateType.Leader && (!best || r.term > best.rn!.raft.term)) best = m;
    }
    return best;
  }

  propose(m: SimMember, data: string): void {
    try {
      m.rn!.propose(enc.encode(data));
    } catch (e) {
      if (!(e instanceof ErrProposalDropped)) throw e;
    }
  }

  proposeBatch(m: SimMember, datas: string[]): void {
    try {
      m.rn!.proposeBatch(datas.map((d) => enc.encode(d)));
    } catch (e) {
      if (!(e instanceof ErrProposalDropped)) throw e;
    }
  }

  read(m: SimMember, ctx: string): void {
    this.checker.readIssued(ctx);
    m.rn!.readIndex(enc.encode(ctx));
  }

  /** Snapshot the state machine at its applied index and compact the log behind it. */
  compact(m: SimMember, keep: number): void {
    const snapIndex = m.storage.snapshot().metadata.index;
    if (!m.conf || m.appliedIndex <= snapIndex) return;
    const data = enc.encode(JSON.stringify({ index: m.appliedIndex, digest: m.digest }));
    m.storage.createSnapshot(m.appliedIndex, m.conf, data);
    const to = m.appliedIndex - keep;
    if (to > m.storage.firstIndex()) m.storage.compact(to);
  }
}
