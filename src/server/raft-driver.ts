// The member's Raft loop. Inputs (ticks, peer messages, proposals, read index
// requests) go into the RawNode; each Ready is then handled in etcd's order:
// the leader's appends and heartbeats go out at once, the entries and hard
// state are written to the WAL in one batch (one fsync for every proposal that
// arrived meanwhile: group commit), the rest of the messages are sent, committed
// entries are applied, and the Ready is advanced.
import type { Logger } from '../log';
import type { RawNode } from '../raft/rawnode';
import type { MemoryStorage } from '../raft/storage';
import { ConfState, Entry, HardState, Message, MessageType, NONE, NodeId, Ready, Snapshot, StateType } from '../raft/types';
import type { Wal } from '../wal';
import type { Transport } from '../transport';
import type { MvccStore } from '../mvcc/store';
import type { Applier } from './applier';
import type { Membership, MemberInfo } from './membership';
import { decode, encode } from './codec';
import { orderMessages } from './ready-messages';
import type { TickConfig } from './ticks';
import { mark, tracing } from '../trace';

/** Entries kept behind a snapshot so a briefly slow follower catches up from the log (etcd's 5000). */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

/**
 * How many applied entries the in-memory Raft log may hold beyond the catch-up
 * window before it is trimmed, whatever --snapshot-count says. A snapshot here
 * is only metadata (the store is the state and is imaged when a follower needs
 * it), so trimming often is cheap, and it keeps a member's memory flat: with
 * etcd's 100,000 default the log alone held ~145 MB at the peak of 100k puts.
 * 2,000 rather than 10,000: a leader's peak RSS under 1,000 writing clients
 * fell by 14-40 MB (three runs each), at no measurable CPU cost.
 */
export const MEMORY_LOG_ENTRIES = 2_000;

export interface DriverHooks {
  onLeaderChange(lead: NodeId, term: number): void;
  onApplied(applied: number): void;
  onReadState(ctx: Uint8Array, index: number): void;
  onMembershipChanged(): void;
  /** The driver hit an error it cannot recover from (a failed WAL write): stop the member. */
  onFatal(err: Error): void;
}

/** What travels as a Raft snapshot's data: the whole MVCC store and the member list. */
interface SnapshotImage {
  members: MemberInfo[];
  mvcc: Buffer[];
}

export class RaftDriver {
  private processing = false;
  private scheduled = false;
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;
  private lead: NodeId = NONE;
  private role: StateType = StateType.Follower;
  private applied: number;
  private snapshotIndex: number;
  /** Index of the last in-memory snapshot (the log in memory starts near it). */
  private memorySnapshotIndex: number;
  private confState: ConfState;
  private readonly snapshotsBuilding = new Set<NodeId>();
  /** The durable half of the snapshots taken so far (see takeSnapshot), in order. */
  private persistingSnapshot: Promise<void> = Promise.resolve();
  /** A hard state whose only change was the commit index, not yet written. */
  private unsavedHardState: HardState | undefined;
  /** Committed index as last seen in a hard state (for Status and the apply backlog). */
  committed: number;

  constructor(
    private readonly node: RawNode,
    private readonly storage: MemoryStorage,
    private readonly wal: Wal,
    private readonly transport: Transport,
    private readonly store: MvccStore,
    private readonly membership: Membership,
    private readonly applier: Applier,
    private readonly opts: { ticks: TickConfig; snapshotCount: number; logger: Logger; hooks: DriverHooks },
  ) {
    const snap = storage.snapshot();
    this.snapshotIndex = snap.metadata.index;
    this.memorySnapshotIndex = snap.metadata.index;
    this.applied = snap.metadata.index;
    this.confState = snap.metadata.confState;
    this.committed = storage.initialState().hardState.commit;
    transport.onMessage((m) => this.step(m));
    transport.onUnreachable((peer) => {
      this.node.reportUnreachable(peer);
      this.schedule();
    });
    // A leader that crashed closes its stream at once; its followers need not
    // wait out a whole election timeout to believe it (see RawNode.forgetLeader).
    transport.onPeerStreamLost((peer) => {
      if (peer !== this.lead || this.isLeader) return;
      this.opts.logger.info({ leader: peer }, "leader's stream closed; forgetting it");
      this.node.forgetLeader(peer);
      this.schedule();
    });
    transport.onSnapshotStatus((peer, ok) => {
      this.node.reportSnapshot(peer, ok);
      this.schedule();
    });
  }

  start(): void {
    // As etcd does at boot: skip most of the first election timeout, so a fresh
    // cluster (or a lone member) elects a leader in about one tick rather than one
    // election timeout. Pre-vote keeps a restarted member from disrupting a leader.
    const { electionTick, heartbeatTick, tickMs } = this.opts.ticks;
    const skip = electionTick - (this.membership.list().length > 1 ? 2 : 1) * heartbeatTick;
    for (let i = 0; i < skip; i++) this.node.tick();
    // Several ticks per heartbeat interval (see ticks.ts): same timings as etcd, finer randomization.
    this.ticker = setInterval(() => {
      this.node.tick();
      // Most ticks (a follower's election clock) produce nothing to handle:
      // skip the loop turn a Ready round would cost. During a round, the round
      // itself looks again when it is done.
      if (this.node.hasReady()) this.schedule();
    }, tickMs);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
  }

  get leader(): NodeId {
    return this.lead;
  }

  get isLeader(): boolean {
    return this.role === StateType.Leader;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  term(): number {
    return this.node.raft.term;
  }

  step(m: Message): void {
    if (this.stopped) return;
    try {
      this.node.step(m);
    } catch (e) {
      this.opts.logger.debug({ err: e, type: m.type, from: m.from }, 'dropped a peer message');
      return;
    }
    this.schedule();
  }

  /** Runs `fn` against the node (propose, readIndex, ...) and makes sure its Ready is handled. */
  withNode<T>(fn: (node: RawNode) => T): T {
    const r = fn(this.node);
    this.schedule();
    return r;
  }

  /** Handle Readies on a later turn of the event loop, so everything that arrives meanwhile shares one. */
  schedule(): void {
    if (this.scheduled || this.processing || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.processing || this.stopped) return;
    this.processing = true;
    try {
      while (!this.stopped && this.node.hasReady()) {
        await this.handleReady(this.node.ready());
        // A Ready with nothing to write completes in microtasks alone; yield a
        // macrotask between Readies so timers (ticks) and sockets always get a turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.processing = false;
    }
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.opts.hooks.onFatal(err);
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (tracing) mark(`ready e${rd.entries.length} c${rd.committedEntries.length} m${rd.messages.length}`);
    if (rd.softState) {
      const leaderChanged = rd.softState.lead !== this.lead;
      this.lead = rd.softState.lead;
      this.role = rd.softState.raftState;
      if (leaderChanged) {
        this.opts.logger.info({ leader: this.lead, term: this.term(), role: StateType[this.role] }, 'leader changed');
        this.opts.hooks.onLeaderChange(this.lead, this.term());
      }
    }
    for (const rs of rd.readStates) this.opts.hooks.onReadState(rs.requestCtx, rs.index);

    // MsgSnap waits for the disk too: sendWithSnapshots builds its image first.
    const { now, later, afterAnswers } = orderMessages(rd, this.isLeader);
    if (now.length > 0) {
      this.transport.send(now, true);
      if (tracing) mark('sent');
    }

    if (rd.snapshot) await this.installSnapshot(rd.snapshot);

    // Committed entries already on this member's disk before this Ready are
    // applied (and their clients answered) while this Ready's write is in flight,
    // as etcd applies in parallel with persisting. The write starts first: on a
    // follower it is what the leader waits for. An entry this Ready rewrites (a
    // follower's conflicting tail) is not on disk yet, whatever its index.
    let durable = this.storage.lastIndex();
    if (rd.entries.length > 0) durable = Math.min(durable, rd.entries[0]!.index - 1);
    let early = 0;
    while (early < rd.committedEntries.length && rd.committedEntries[early]!.index <= durable) early++;

    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState) {
      this.storage.setHardState(rd.hardState);
      this.committed = rd.hardState.commit;
    }
    let saved: Promise<void> | undefined;
    if (rd.entries.length > 0 || rd.snapshot || rd.mustSync) {
      saved = this.wal.save({
        hardState: rd.hardState ?? this.unsavedHardState,
        entries: rd.entries,
        snapshot: rd.snapshot ? { metadata: rd.snapshot.metadata } : undefined,
        mustSync: rd.mustSync || rd.snapshot !== undefined,
      });
      // Awaited below; if applying fails first, the member stops on that error instead.
      saved.catch(() => undefined);
      this.unsavedHardState = undefined;
    } else if (rd.hardState) {
      // Only the commit index moved. Raft treats it as volatile (a restarted
      // member relearns it from the leader, and the store's consistent index
      // keeps apply idempotent), so it waits for the next write that has to happen
      // anyway instead of costing a LevelDB write on every commit.
      this.unsavedHardState = rd.hardState;
    }
    if (early > 0) await this.applyCommitted(rd.committedEntries.slice(0, early));
    if (saved) {
      await saved;
      if (tracing) mark('saved');
    }
    if (later.length > 0) {
      await this.sendWithSnapshots(later);
      if (tracing) mark('sent-after-save');
    }

    if (early < rd.committedEntries.length) await this.applyCommitted(early === 0 ? rd.committedEntries : rd.committedEntries.slice(early));
    if (tracing) mark('applied');
    // node's HTTP/2 writes the answers from a native immediate, which runs
    // before this one in the next check phase.
    if (afterAnswers.length > 0) {
      setImmediate(() => {
        if (!this.stopped) this.transport.send(afterAnswers, true);
      });
    }
    this.node.advance(rd);
    if (rd.snapshot && rd.committedEntries.length === 0) this.opts.hooks.onApplied(this.applied);
    if (this.applied - this.snapshotIndex >= this.opts.snapshotCount) this.takeSnapshot();
    else if (this.applied - this.memorySnapshotIndex >= MEMORY_LOG_ENTRIES) this.trimMemoryLog();
  }

  private async applyCommitted(entries: Entry[]): Promise<void> {
    const res = this.applier.applyEntries(entries);
    if (res.confState) this.confState = res.confState;
    // The store's batch is written behind the loop, not awaited: answers come
    // from memory, the WAL already holds the entries, and the store's batches
    // keep their order. A failed write is as fatal as a failed WAL write.
    this.store.commit().catch((err: unknown) => this.fail(err as Error));
    if (res.membershipChanged) {
      await this.wal.saveMembership(encode(this.membership.toJSON()), false);
      this.opts.hooks.onMembershipChanged();
    }
    this.applied = entries[entries.length - 1]!.index;
    this.opts.hooks.onApplied(this.applied);
  }

  /** A snapshot from the leader: replace the store and the member list, then the log. */
  private async installSnapshot(snap: Snapshot): Promise<void> {
    // This member's own last snapshot first: its WAL record must not land after the leader's.
    await this.persistingSnapshot;
    const image = decode<SnapshotImage>(snap.data);
    // The image may run ahead of the snapshot index; its own consistent index says how far.
    await this.store.restore(image.mvcc);
    this.membership.replace(image.members);
    await this.wal.saveMembership(encode(this.membership.toJSON()), true);
    this.storage.applySnapshot({ metadata: snap.metadata, data: new Uint8Array(0) });
    this.snapshotIndex = snap.metadata.index;
    this.memorySnapshotIndex = snap.metadata.index;
    this.applied = snap.metadata.index;
    this.confState = snap.metadata.confState;
    this.opts.logger.info({ index: snap.metadata.index, term: snap.metadata.term }, 'installed snapshot from leader');
    this.opts.hooks.onMembershipChanged();
  }

  /**
   * MsgSnap leaves Raft with only the snapshot's metadata; the data is the store
   * as it is now (at or past the snapshot index), as etcd merges its db into the
   * message. The receiver skips the entries its store already holds.
   */
  private async sendWithSnapshots(msgs: Message[]): Promise<void> {
    const plain: Message[] = [];
    for (const m of msgs) {
      if (m.type !== MessageType.Snap || !m.snapshot) {
        plain.push(m);
        continue;
      }
      // Building an image costs a pass over the whole store: never for a peer we
      // cannot reach (Raft asks again on every append to it), and one at a time.
      if (!this.transport.activeSince(m.to) || this.snapshotsBuilding.has(m.to)) {
        this.node.reportSnapshot(m.to, false);
        continue;
      }
      this.snapshotsBuilding.add(m.to);
      const chunks: Buffer[] = [];
      try {
        for await (const c of this.store.snapshot()) chunks.push(c);
      } finally {
        this.snapshotsBuilding.delete(m.to);
      }
      const image: SnapshotImage = { members: this.membership.toJSON(), mvcc: chunks };
      this.transport.send([{ ...m, snapshot: { metadata: m.snapshot.metadata, data: encode(image) } }]);
      this.opts.logger.info({ to: m.to, index: m.snapshot.metadata.index }, 'sending snapshot');
    }
    if (plain.length > 0) this.transport.send(plain, true);
  }

  /**
   * Every --snapshot-count applied entries: record a snapshot and drop the log
   * below it. The in-memory log is trimmed at once; making the snapshot durable
   * and deleting the WAL's entries below it (a LevelDB range delete of ~95,000
   * entries: 90-200 ms per member, measured) run behind the Raft loop, which
   * used to stop for them, and with it every write in the cluster, each time.
   */
  private takeSnapshot(): void {
    const { index, snap, compactTo } = this.trimMemoryLog();
    this.snapshotIndex = index;
    const t0 = performance.now();
    this.persistingSnapshot = this.persistingSnapshot
      .then(async () => {
        // The WAL may drop entries only once the store holds what they produced,
        // on disk: its ordinary batches are unsynced because the log could replay
        // them. The synced commit covers everything applied so far, at or past
        // `index`; the store's consistent index says how far.
        await this.store.commit({ sync: true });
        await this.wal.saveSnapshot(snap.metadata);
        if (compactTo > 0) await this.wal.compact(compactTo);
        const ms = Math.round(performance.now() - t0);
        this.opts.logger.info({ index, compactedTo: Math.max(compactTo, 0), ms }, 'took a snapshot and compacted the log');
      })
      .catch((err: unknown) => this.fail(err as Error));
  }

  /** Resolves once the snapshots taken so far are durable and their WAL entries deleted. */
  snapshotsPersisted(): Promise<void> {
    return this.persistingSnapshot;
  }

  /**
   * Drops applied entries from the in-memory log only (the WAL keeps them until
   * the next real snapshot), behind an in-memory snapshot at the applied index
   * that followers needing older entries are sent. takeSnapshot starts from
   * the same trim and makes its snapshot durable.
   */
  private trimMemoryLog(): { index: number; snap: Snapshot; compactTo: number } {
    const index = this.applied;
    const snap = this.storage.createSnapshot(index, this.confState, new Uint8Array(0));
    this.memorySnapshotIndex = index;
    const compactTo = index - SNAPSHOT_CATCH_UP_ENTRIES;
    if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo);
    return { index, snap, compactTo };
  }
}
