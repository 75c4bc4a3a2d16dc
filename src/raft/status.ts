// A read-only picture of a member's Raft state for observability and the server's
// status endpoints. Built on demand; never on the hot path.

import { ProgressState } from './progress';
import type { Raft } from './raft';
import { ConfState, HardState, NodeId, StateType } from './types';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  paused: boolean;
  inflight: number;
  pendingSnapshot: number;
}

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  lead: NodeId;
  raftState: StateType;
  applied: number;
  leadTransferee: NodeId;
  config: ConfState;
  /** Only on the leader: one entry per member (including itself). */
  progress?: Map<NodeId, ProgressStatus>;
}

export function getStatus(r: Raft): Status {
  const hs: HardState = r.hardState();
  const s: Status = {
    id: r.id,
    term: hs.term,
    vote: hs.vote,
    commit: hs.commit,
    lead: r.lead,
    raftState: r.state,
    applied: r.raftLog.applied,
    leadTransferee: r.leadTransferee,
    config: r.trk.confState(),
  };
  if (r.state === StateType.Leader) {
    s.progress = new Map();
    for (const [id, pr] of r.trk.progress) {
      s.progress.set(id, {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        isLearner: pr.isLearner,
        recentActive: pr.recentActive,
        paused: pr.isPaused(),
        inflight: pr.inflights.count,
        pendingSnapshot: pr.pendingSnapshot,
      });
    }
  }
  return s;
}
