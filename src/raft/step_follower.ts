// How followers, candidates and pre-candidates handle messages: appends, heartbeats
// and snapshots from the leader, votes for themselves, forwarding of proposals, reads
// and transfer requests to the leader.

import { ErrProposalDropped } from './errors';
import { restore } from './membership';
import { stepLeaderPersisted } from './persisted_notice';
import type { Raft } from './raft';
import { bcastAppend } from './replicate';
import { Message, MessageType, NONE, StateType } from './types';
import { newMessage } from './util';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === NONE) throw new ErrProposalDropped('raft proposal dropped: no leader');
      if (r.cfg.disableProposalForwarding) throw new ErrProposalDropped('raft proposal dropped: forwarding disabled');
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.LeaderPersisted:
      r.electionElapsed = 0;
      r.lead = m.from;
      stepLeaderPersisted(r, m.index);
      return;
    case MessageType.TransferLeader:
      if (r.lead === NONE) return;
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.TimeoutNow:
      // The leader hands over: campaign at once, skipping pre-vote (we know the
      // cluster is healthy) and breaking the other members' leader lease.
      if (!r.hasUnappliedConfChanges()) r.campaign('transfer');
      return;
    case MessageType.ReadIndex:
      if (r.lead === NONE) return;
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, requestCtx: m.context });
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  const myVoteResp = r.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      throw new ErrProposalDropped('raft proposal dropped: no leader');
    case MessageType.App:
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp: {
      const res = r.poll(m.from, m.type, !m.reject);
      if (res === 'won') {
        if (r.state === StateType.PreCandidate) r.campaign('election');
        else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (res === 'lost') {
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
  }
}

function handleAppendEntries(r: Raft, m: Message): void {
  const log = r.raftLog;
  if (m.index < log.committed) {
    const resp = newMessage(MessageType.AppResp, m.from);
    resp.index = log.committed;
    r.send(resp);
    return;
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  const resp = newMessage(MessageType.AppResp, m.from);
  if (lastNew >= 0) {
    resp.index = lastNew;
  } else {
    // Reject with a hint: the last index <= m.index whose term is <= m.logTerm, and its
    // term, so the leader can skip a whole term's worth of entries per round trip.
    let hint = Math.min(m.index, log.lastIndex());
    hint = log.findConflictByTerm(hint, m.logTerm);
    resp.index = m.index;
    resp.reject = true;
    resp.rejectHint = hint;
    resp.logTerm = log.termOr0(hint);
  }
  r.send(resp);
}

function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  const resp = newMessage(MessageType.HeartbeatResp, m.from);
  resp.context = m.context;
  r.send(resp);
}

function handleSnapshot(r: Raft, m: Message): void {
  const resp = newMessage(MessageType.AppResp, m.from);
  resp.index = m.snapshot && restore(r, m.snapshot) ? r.raftLog.lastIndex() : r.raftLog.committed;
  r.send(resp);
}
