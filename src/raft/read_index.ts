// The leader's side of ReadIndex: a read point is the commit index (or beyond, see
// readPoint), confirmed by a heartbeat round (safe mode) or by the leader lease, and
// only once this leader has committed an entry of its own term.

import type { Raft } from './raft';
import { bcastHeartbeatWithCtx } from './replicate';
import { Message, MessageType, NONE } from './types';
import { newMessage } from './util';

export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendReadIndexResponse(r, m);
}

/**
 * The index a read must wait for: the commit index, or the highest index this
 * leader told a follower its log is durable through, if higher. That follower
 * may already have applied entries up to it and acknowledged them to its
 * clients (persisted_notice.ts), before this leader counts them committed.
 */
export function readPoint(r: Raft): number {
  return Math.max(r.raftLog.committed, r.persistedNoticeIndex);
}

/** Starts confirming leadership for a read (safe mode) or answers from the lease. */
export function sendReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === 'safe') {
    const ctx = r.readOnly.addRequest(readPoint(r), m);
    r.readOnly.recvAck(r.id, ctx);
    bcastHeartbeatWithCtx(r, ctx);
    return;
  }
  const resp = responseToReadIndexReq(r, m, readPoint(r));
  if (resp) r.send(resp);
}

/** A local read becomes a ReadState; a forwarded one gets a MsgReadIndexResp. */
export function responseToReadIndexReq(r: Raft, req: Message, readIndex: number): Message | undefined {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index: readIndex, requestCtx: req.context });
    return undefined;
  }
  const m = newMessage(MessageType.ReadIndexResp, req.from);
  m.index = readIndex;
  m.context = req.context;
  return m;
}
