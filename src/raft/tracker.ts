// The leader's bookkeeping for the whole membership: the (possibly joint) voter
// configuration, learners, one Progress per member, and the votes of an election.

import { Progress } from './progress';
import { jointCommitted, jointVoteResult, VoteResult } from './quorum';
import { ConfState, NodeId } from './types';

export interface TrackerConfig {
  /** The incoming (or only) voter set. */
  voters: Set<NodeId>;
  /** The outgoing voter set; non-empty only in a joint configuration. */
  votersOutgoing: Set<NodeId>;
  learners: Set<NodeId>;
  /** Voters of the outgoing config that become learners once the joint config is left. */
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export function emptyTrackerConfig(): TrackerConfig {
  return {
    voters: new Set(),
    votersOutgoing: new Set(),
    learners: new Set(),
    learnersNext: new Set(),
    autoLeave: false,
  };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: new Set(c.voters),
    votersOutgoing: new Set(c.votersOutgoing),
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

const sorted = (s: Set<NodeId>): NodeId[] => [...s].sort();

export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();

  constructor(readonly maxInflight: number) {}

  isJoint(): boolean {
    return this.config.votersOutgoing.size > 0;
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.has(id) || this.config.votersOutgoing.has(id);
  }

  /** Every voter of either half of the configuration, each once. */
  voterIds(): NodeId[] {
    const out = [...this.config.voters];
    for (const id of this.config.votersOutgoing) if (!this.config.voters.has(id)) out.push(id);
    return out;
  }

  /** A single voter and no one else: decisions need no messages. */
  isSingleton(): boolean {
    return this.config.voters.size === 1 && this.config.votersOutgoing.size === 0;
  }

  confState(): ConfState {
    return {
      voters: sorted(this.config.voters),
      votersOutgoing: sorted(this.config.votersOutgoing),
      learners: sorted(this.config.learners),
      learnersNext: sorted(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  /** The largest index acknowledged (persisted) by a quorum of voters. */
  committed(): number {
    const prs = this.progress;
    return jointCommitted(this.config.voters, this.config.votersOutgoing, (id) => prs.get(id)?.match ?? 0);
  }

  /** Whether a quorum has been heard from recently; `self` always counts as active. */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      active.set(id, id === self || pr.recentActive);
    }
    return jointVoteResult(this.config.voters, this.config.votersOutgoing, active) === 'won';
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return jointVoteResult(this.config.voters, this.config.votersOutgoing, this.votes);
  }

  /** Whether the given set of acknowledging members forms a quorum. */
  isQuorum(acks: ReadonlySet<NodeId>): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    return jointVoteResult(this.config.voters, this.config.votersOutgoing, votes) === 'won';
  }
}
