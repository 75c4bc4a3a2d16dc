// The data the Raft core exchanges with its driver: log entries, hard state,
// snapshots, messages and the Ready batch. This file is the contract between
// src/raft (pure consensus) and src/server, src/wal and src/transport, so it
// holds only plain data: everything here must survive msgpack encoding.

/**
 * A member id: the uint64 etcd derives from peer URLs and the cluster token,
 * written as lowercase hex without leading zeros (as etcd prints it). Strings
 * keep 64-bit ids exact and make cheap Map keys.
 */
export type NodeId = string;

/** No node: no leader known, no vote cast. */
export const NONE: NodeId = '';

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to Raft. Empty for the no-op a new leader appends. For ConfChange, an encoded ConfChange. */
  data: Uint8Array;
}

/** What must be on stable storage before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** The membership configuration, as recorded in snapshots and applied conf changes. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** Voters of the outgoing configuration while a joint configuration is in effect. */
  votersOutgoing: NodeId[];
  /** Learners that become learners once the joint configuration is left. */
  learnersNext: NodeId[];
  /** Leave the joint configuration automatically once it is committed. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** The state machine's image at metadata.index; opaque to Raft. */
  data: Uint8Array;
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  UpdateNode = 2,
  AddLearnerNode = 3,
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: NodeId;
}

export enum ConfChangeTransition {
  /** Single change: applied directly. Several changes: joint consensus, left automatically. */
  Auto = 0,
  JointImplicit = 1,
  JointExplicit = 2,
}

/** A membership change (etcd raft's ConfChangeV2). An empty `changes` leaves a joint config. */
export interface ConfChange {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  /** Opaque to Raft; the server puts the member's attributes (name, peer URLs) here. */
  context: Uint8Array;
}

export enum MessageType {
  Hup = 0,
  Beat = 1,
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  Unreachable = 10,
  SnapStatus = 11,
  CheckQuorum = 12,
  TransferLeader = 13,
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
  /**
   * Not in etcd's raftpb: a leader tells a follower that waits on proposals it
   * forwarded how far the leader's own log is durable (see persisted_notice.ts).
   */
  LeaderPersisted = 100,
}

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** Term of the entry at `index` (App), or of the candidate's last entry (Vote/PreVote). */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshot?: Snapshot;
  /** ReadIndex request context, heartbeat read context, or campaign kind. */
  context: Uint8Array;
}

export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

/** Volatile state that the driver may want to observe; never persisted. */
export interface SoftState {
  lead: NodeId;
  raftState: StateType;
}

/** A read request whose answer may be served once the state machine has applied `index`. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/**
 * One batch of work for the driver (RawNode.ready()). The rule this core implements:
 *  1. Persist `snapshot`, then `entries` (an entry at index i replaces persisted ones >= i),
 *     then `hardState`; fsync when `mustSync`. Append the entries to the Storage too.
 *  2. Then send `messages`. Only a leader's MsgApp/MsgHeartbeat/MsgSnap and a follower's
 *     forwarded MsgProp/MsgReadIndex (mayLeaveBeforePersist) may leave while step 1 is
 *     still in flight; responses and votes describe state that is durable only after it.
 *     A leader counts its own acknowledgement in advance(), so a parallel write never
 *     lets commit outrun the leader's disk.
 *  3. Apply `snapshot`, then `committedEntries` (already durable locally: persisted by an
 *     earlier Ready, never only by this one); serve `readStates` once applied >= index.
 *  4. Call advance(ready); no other Ready is produced before that.
 */
export interface Ready {
  softState?: SoftState;
  /** Present only when term, vote or commit changed. */
  hardState?: HardState;
  readStates: ReadState[];
  /** To append to stable storage before messages that depend on them are sent. */
  entries: Entry[];
  snapshot?: Snapshot;
  /** Committed and durable: to apply to the state machine, in order. */
  committedEntries: Entry[];
  messages: Message[];
  /** True when entries or term/vote changed: the write must be fsynced. */
  mustSync: boolean;
}
