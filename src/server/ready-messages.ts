// When each of a Ready's messages leaves the member, relative to its WAL
// write and to the answers its applied entries produce.

import { mayLeaveBeforePersist } from '../raft/util';
import { type Message, MessageType, type Ready } from '../raft/types';

export interface MessageOrder {
  /** Before the WAL write. */
  now: Message[];
  /** After the WAL write (and, for MsgSnap, after its image is built). */
  later: Message[];
  /** After the answers of this Ready's applied entries are written. */
  afterAnswers: Message[];
}

export function orderMessages(rd: Ready, isLeader: boolean): MessageOrder {
  const order: MessageOrder = { now: [], later: [], afterAnswers: [] };
  // A leader's appends that carry no entries only tell followers the new
  // commit index. They wait until this Ready's answers are written: sent
  // first, they woke both followers, whose applies then competed for the
  // two cores with the answer a client waits for.
  const deferCommits = isLeader && rd.committedEntries.length > 0;
  for (const m of rd.messages) {
    if (deferCommits && m.type === MessageType.App && m.entries.length === 0) order.afterAnswers.push(m);
    // A leader's appends and heartbeats may leave before its own write: it
    // counts its own acknowledgement only after advance. So may the requests
    // a follower forwards to its leader. Everything else waits for the disk.
    else if (m.type !== MessageType.Snap && mayLeaveBeforePersist(m, isLeader)) order.now.push(m);
    else order.later.push(m);
  }
  return order;
}
