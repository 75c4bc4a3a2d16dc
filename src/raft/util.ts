// Small helpers shared by the Raft modules: message construction with a fixed shape
// (keeps V8's hidden classes monomorphic on the hot path), size limits, empty values.

import {
  ConfState,
  Entry,
  HardState,
  Message,
  MessageType,
  NONE,
  NodeId,
  Snapshot,
} from './types';

export const EMPTY_BYTES = new Uint8Array(0);
// Shared by every message without entries; frozen so a stray push fails loudly.
const NO_ENTRIES = Object.freeze([]) as unknown as Entry[];

/** Every message is built here so all Message objects share one shape. */
export function newMessage(type: MessageType, to: NodeId, from: NodeId = NONE): Message {
  return {
    type,
    to,
    from,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: NO_ENTRIES,
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: undefined,
    context: EMPTY_BYTES,
  };
}

/** Approximate encoded size; only used to cut batches, so precision does not matter. */
export function entrySize(e: Entry): number {
  return e.data.length + 24;
}

/** The longest prefix of ents whose total size is within maxSize, but at least one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length <= 1 || maxSize === Infinity) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxSize) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: EMPTY_BYTES };
}

export function isEmptySnap(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** Messages a node produces in answer to a peer, whose content must be durable first. */
export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.PreVoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.ReadIndexResp
  );
}

export function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  );
}

export function voteRespType(t: MessageType): MessageType {
  return t === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
}

/** Byte-wise equality for read contexts. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Leader replication messages (MsgApp, MsgHeartbeat, MsgSnap) that a driver may send
 * while the same Ready's write is still in flight: they depend only on state the leader
 * persisted before it became leader, and its own ack waits for advance(). So may a
 * LeaderPersisted notice, made in advance() about writes already done. Everything
 * else must wait for the write.
 */
export function canSendBeforePersist(m: Message): boolean {
  return m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap || m.type === MessageType.LeaderPersisted;
}

/**
 * Requests a follower forwards to its leader (a client's proposal, a read index
 * request). They state nothing about the sender's log or vote, so they need not
 * wait for the Ready's write: under load a follower's Ready usually carries
 * appends to persist, and the forwarded requests would otherwise wait for that fsync.
 */
function isForwardedRequest(m: Message): boolean {
  return m.type === MessageType.Prop || m.type === MessageType.ReadIndex;
}

/** Whether a driver may send `m`, from a Ready of a member in the given role, before that Ready's write. */
export function mayLeaveBeforePersist(m: Message, isLeader: boolean): boolean {
  return isLeader ? canSendBeforePersist(m) : isForwardedRequest(m);
}
