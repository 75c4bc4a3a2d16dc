// Configuration of one Raft member and its validation.

import { mulberry32, Rand } from './prng';
import { Storage } from './storage';
import { NONE, NodeId } from './types';

export interface Config {
  /** This member's id; must not be NONE. */
  id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns (randomized to [e, 2e)). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** The last index applied to the state machine; set on restart so nothing is applied twice. */
  applied?: number;
  /** Max bytes of entries per MsgApp (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Max bytes of committed entries per Ready. Default 64 MiB. */
  maxCommittedSizePerReady?: number;
  /** Max MsgApps in flight per follower in Replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Max bytes of uncommitted entries on the leader; proposals beyond are dropped. Default unlimited. */
  maxUncommittedEntriesSize?: number;
  checkQuorum?: boolean;
  preVote?: boolean;
  readOnlyOption?: 'safe' | 'leaseBased';
  /** Seeded generator for election jitter, or a seed for the built-in one. */
  rand: Rand | number;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /**
   * Tell followers a new commit index with their next message (or the leader's
   * next tick) unless they wait on it, instead of with an empty append at once
   * as etcd does (see bcastCommit). Default false.
   */
  deferCommitBroadcast?: boolean;
  /**
   * Once its own write is done, a leader tells each follower waiting on proposals
   * it forwarded how far its log is durable, where the two of them form a quorum;
   * the follower then commits by itself (see persisted_notice.ts). Default false.
   */
  leaderPersistedNotice?: boolean;
}

export interface ResolvedConfig {
  id: NodeId;
  electionTick: number;
  heartbeatTick: number;
  storage: Storage;
  applied: number;
  maxSizePerMsg: number;
  maxCommittedSizePerReady: number;
  maxInflightMsgs: number;
  maxUncommittedEntriesSize: number;
  checkQuorum: boolean;
  preVote: boolean;
  readOnlyOption: 'safe' | 'leaseBased';
  rand: Rand;
  disableProposalForwarding: boolean;
  deferCommitBroadcast: boolean;
  leaderPersistedNotice: boolean;
}

export function resolveConfig(c: Config): ResolvedConfig {
  if (c.id === NONE) throw new Error('cannot use none as id');
  if (!(c.heartbeatTick > 0)) throw new Error('heartbeat tick must be greater than 0');
  if (!(c.electionTick > c.heartbeatTick)) throw new Error('election tick must be greater than heartbeat tick');
  const maxInflightMsgs = c.maxInflightMsgs ?? 256;
  if (maxInflightMsgs <= 0) throw new Error('max inflight messages must be greater than 0');
  const readOnlyOption = c.readOnlyOption ?? 'safe';
  // A lease is only as good as the leader's knowledge that it still has a quorum.
  if (readOnlyOption === 'leaseBased' && !c.checkQuorum) {
    throw new Error('checkQuorum must be enabled when readOnlyOption is leaseBased');
  }
  return {
    id: c.id,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    storage: c.storage,
    applied: c.applied ?? 0,
    maxSizePerMsg: c.maxSizePerMsg ?? 1024 * 1024,
    maxCommittedSizePerReady: c.maxCommittedSizePerReady ?? 64 * 1024 * 1024,
    maxInflightMsgs,
    maxUncommittedEntriesSize: c.maxUncommittedEntriesSize ?? Infinity,
    checkQuorum: c.checkQuorum ?? false,
    preVote: c.preVote ?? false,
    readOnlyOption,
    rand: typeof c.rand === 'number' ? mulberry32(c.rand) : c.rand,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    deferCommitBroadcast: c.deferCommitBroadcast ?? false,
    leaderPersistedNotice: c.leaderPersistedNotice ?? false,
  };
}
