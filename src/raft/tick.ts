// The logical clock: one call per tick. A follower or candidate counts toward
// its randomized election timeout and campaigns when it runs out; a leader
// sends heartbeats, runs the check-quorum round once per election timeout,
// abandons a leadership transfer that took longer, and tells followers a
// commit index they were not told yet (flushPendingCommits).

import type { Raft } from './raft';
import { flushPendingCommits } from './replicate';
import { MessageType, NONE, StateType } from './types';
import { newMessage } from './util';

export function tick(r: Raft): void {
  if (r.state === StateType.Leader) tickHeartbeat(r);
  else tickElection(r);
}

function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.promotable() && r.electionElapsed >= r.randomizedElectionTimeout) {
    r.electionElapsed = 0;
    r.step(newMessage(MessageType.Hup, NONE, r.id));
  }
}

function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTick) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) r.step(newMessage(MessageType.CheckQuorum, NONE, r.id));
    // A transfer that did not finish within an election timeout is abandoned.
    if (r.state === StateType.Leader && r.leadTransferee !== NONE) r.abortLeaderTransfer();
  }
  if (r.state !== StateType.Leader) return;
  if (r.heartbeatElapsed >= r.cfg.heartbeatTick) {
    r.heartbeatElapsed = 0;
    r.step(newMessage(MessageType.Beat, NONE, r.id));
  }
  if (r.state === StateType.Leader) flushPendingCommits(r);
}
