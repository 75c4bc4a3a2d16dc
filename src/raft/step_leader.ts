// How a leader handles messages: proposals, reads, replies to appends and heartbeats,
// snapshot and reachability reports, leadership transfer and the check-quorum round.

import { decodeConfChange, isLeaveJoint } from './confchange';
import { ErrProposalDropped } from './errors';
import { ProgressState } from './progress';
import type { Raft } from './raft';
import { releasePendingReadIndexMessages, responseToReadIndexReq, sendReadIndexResponse } from './read_index';
import { bcastCommit, bcastHeartbeat, maybeSendAppend, sendAppend, sendTimeoutNow } from './replicate';
import { EntryType, Message, MessageType, NONE } from './types';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r);
      return;
    case MessageType.CheckQuorum:
      // Step down if a quorum has not been heard from in the last election timeout:
      // a partitioned leader must stop believing it leads.
      if (!r.trk.quorumActive(r.id)) r.becomeFollower(r.term, NONE);
      for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
      return;
    case MessageType.Prop:
      return propose(r, m);
    case MessageType.ReadIndex:
      if (r.trk.isSingleton()) {
        // No one to confirm with: our commit index is the answer.
        const resp = responseToReadIndexReq(r, m, r.raftLog.committed);
        if (resp) r.send(resp);
        return;
      }
      // A new leader's commit index may lag the real one until it commits an entry of
      // its own term; until then reads wait.
      if (!r.committedEntryInCurrentTerm()) {
        r.pendingReadIndexMessages.push(m);
        return;
      }
      sendReadIndexResponse(r, m);
      return;
  }

  const pr = r.trk.progress.get(m.from);
  if (!pr) return;
  switch (m.type) {
    case MessageType.AppResp:
      pr.recentActive = true;
      if (m.reject) {
        let next = m.rejectHint;
        // The follower told us the term at its hint: skip every entry of ours above the
        // last index whose term is <= that term.
        if (m.logTerm > 0) next = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm);
        if (pr.maybeDecrTo(m.index, next)) {
          if (pr.state === ProgressState.Replicate) pr.becomeProbe();
          sendAppend(r, m.from);
        }
        return;
      }
      {
        const oldPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) return;
        if (pr.state === ProgressState.Probe) pr.becomeReplicate();
        else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);

        if (r.maybeCommit()) {
          releasePendingReadIndexMessages(r);
          bcastCommit(r);
        } else if (oldPaused) {
          sendAppend(r, m.from);
        }
        // Fill the window: keep streaming while flow control allows.
        while (maybeSendAppend(r, m.from, false)) {
          /* sent one more */
        }
        if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, m.from);
      }
      return;
    case MessageType.HeartbeatResp: {
      pr.recentActive = true;
      pr.probeSent = false;
      // Make room for one more append to a follower whose window is stuck full.
      if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
      if (pr.match < r.raftLog.lastIndex()) sendAppend(r, m.from);
      if (r.readOnly.option !== 'safe' || m.context.length === 0) return;
      const rs = r.readOnly.recvAck(m.from, m.context);
      if (!rs || !r.trk.isQuorum(rs.acks)) return;
      for (const s of r.readOnly.advance(rs.seq)) {
        const resp = responseToReadIndexReq(r, s.req, s.index);
        if (resp) r.send(resp);
      }
      return;
    }
    case MessageType.SnapStatus:
      if (pr.state !== ProgressState.Snapshot) return;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // Wait for the follower's answer (or a heartbeat) before probing again.
      pr.probeSent = true;
      return;
    case MessageType.Unreachable:
      // Sends to it failed: stop streaming optimistically and probe instead.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      return;
    case MessageType.TransferLeader: {
      if (pr.isLearner) return;
      const transferee = m.from;
      if (r.leadTransferee !== NONE) {
        if (r.leadTransferee === transferee) return;
        r.abortLeaderTransfer();
      }
      if (transferee === r.id) return;
      // The transfer must finish within an election timeout (see tickHeartbeat).
      r.electionElapsed = 0;
      r.leadTransferee = transferee;
      if (pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, transferee);
      else sendAppend(r, transferee);
      return;
    }
  }
}

function propose(r: Raft, m: Message): void {
  if (m.entries.length === 0) throw new Error('stepped empty MsgProp');
  if (!r.trk.progress.has(r.id)) throw new ErrProposalDropped('raft proposal dropped: this member was removed');
  if (r.leadTransferee !== NONE) throw new ErrProposalDropped('raft proposal dropped: leadership transfer in progress');
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e.type !== EntryType.ConfChange) continue;
    const cc = decodeConfChange(e.data);
    const alreadyPending = r.pendingConfIndex > r.raftLog.applied;
    const alreadyJoint = r.trk.isJoint();
    const wantsLeaveJoint = isLeaveJoint(cc);
    let refused: string | undefined;
    if (alreadyPending) refused = 'a conf change is already pending';
    else if (alreadyJoint && !wantsLeaveJoint) refused = 'must leave the joint config first';
    else if (!alreadyJoint && wantsLeaveJoint) refused = 'not in a joint config';
    if (refused !== undefined) {
      if (m.entries.length === 1) throw new ErrProposalDropped(`raft conf change dropped: ${refused}`);
      // Keep the batch's other proposals: the refused change becomes a no-op entry.
      m.entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) };
    } else {
      r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
    }
  }
  if (!r.appendEntry(m.entries)) throw new ErrProposalDropped('raft proposal dropped: too many uncommitted entries');
  // Forwarded by a follower: its clients wait for these entries to be applied there.
  const from = m.from !== r.id ? r.trk.progress.get(m.from) : undefined;
  if (from) from.forwardedIndex = r.raftLog.lastIndex();
  // Sending waits for the next Ready (flushAppends): every proposal made until then
  // shares one MsgApp per follower instead of one each.
  r.appendsPending = true;
}

