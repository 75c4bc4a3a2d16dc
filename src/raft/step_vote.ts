// How any member answers a vote or pre-vote request (Raft §5.2, §5.4.1): at most
// one vote per term, and only for a candidate whose log is at least as up to date.

import type { Raft } from './raft';
import { Message, MessageType, NONE } from './types';
import { newMessage, voteRespType } from './util';

export function stepVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === MessageType.PreVote && m.term > r.term);
  // The election restriction: only a candidate whose log is at least as up to date as ours.
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    const resp = newMessage(voteRespType(m.type), m.from);
    resp.term = m.term;
    r.send(resp);
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    const resp = newMessage(voteRespType(m.type), m.from);
    resp.term = r.term;
    resp.reject = true;
    r.send(resp);
  }
}
