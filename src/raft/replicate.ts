// The leader's outgoing replication traffic: appends (or a snapshot when the follower
// needs compacted entries) within each follower's flow control, heartbeats, and the
// MsgTimeoutNow that completes a leadership transfer.

import { ErrCompacted, ErrSnapshotTemporarilyUnavailable } from './errors';
import { ProgressState } from './progress';
import type { Progress } from './progress';
import type { Raft } from './raft';
import { Entry, MessageType, NodeId, StateType } from './types';
import { EMPTY_BYTES, newMessage } from './util';

export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/** Sends entries (or a snapshot) to `to` if its flow control allows; true if something was sent. */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.raftLog.termAt(prevIndex);
  let ents: Entry[] | undefined;
  if (prevTerm >= 0) {
    try {
      ents = r.raftLog.entries(pr.next, r.cfg.maxSizePerMsg);
    } catch (e) {
      if (!(e instanceof ErrCompacted)) throw e;
    }
  }
  if (ents === undefined) {
    // The follower needs entries we compacted: send the snapshot instead, but only
    // to a member that seems alive (a snapshot is expensive).
    if (!pr.recentActive) return false;
    let snap;
    try {
      snap = r.raftLog.snapshot();
    } catch (e) {
      if (e instanceof ErrSnapshotTemporarilyUnavailable) return false;
      throw e;
    }
    if (snap.metadata.index === 0) throw new Error('need non-empty snapshot');
    const m = newMessage(MessageType.Snap, to);
    m.snapshot = snap;
    pr.becomeSnapshot(snap.metadata.index);
    r.send(m);
    return true;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  const m = newMessage(MessageType.App, to);
  m.index = prevIndex;
  m.logTerm = prevTerm;
  m.entries = ents;
  m.commit = r.raftLog.committed;
  toldCommit(pr, m.commit, r.raftLog.committed);
  if (ents.length > 0) {
    if (pr.state === ProgressState.Replicate) {
      const last = ents[ents.length - 1]!.index;
      pr.optimisticUpdate(last);
      pr.inflights.add(last);
    } else if (pr.state === ProgressState.Probe) {
      pr.probeSent = true;
    }
  }
  r.send(m);
  return true;
}

export function sendHeartbeat(r: Raft, to: NodeId, ctx: Uint8Array): void {
  const pr = r.trk.progress.get(to)!;
  const m = newMessage(MessageType.Heartbeat, to);
  // Never tell a follower to commit beyond what it is known to hold: it may lack
  // those entries, or hold conflicting ones from an older term.
  m.commit = Math.min(pr.match, r.raftLog.committed);
  toldCommit(pr, m.commit, r.raftLog.committed);
  m.context = ctx;
  r.send(m);
}

export function bcastAppend(r: Raft): void {
  for (const id of r.trk.progress.keys()) if (id !== r.id) sendAppend(r, id);
}

/** A message to `pr` carried commit index `sent`; `committed` is the leader's. */
function toldCommit(pr: Progress, sent: number, committed: number): void {
  if (sent === committed) pr.commitPending = false;
  if (sent >= pr.forwardedIndex) pr.forwardedIndex = 0;
}

/**
 * The commit index moved. etcd's leader sends every follower an append at once,
 * empty if need be, to carry it. Here a follower hears it at once only when it
 * has entries to receive anyway or waits on proposals it forwarded; the others
 * get it with their next append or heartbeat, and at the latest on the leader's
 * next tick (flushPendingCommits). A follower sent a leader-persisted notice
 * covering its forwarded proposals waits for nothing either: it commits them
 * itself (persisted_notice.ts). With one client writing, each write used to
 * cost two empty appends, two acknowledgements and a Raft round on each
 * follower: a third of the cluster's messages, sent while the client's answer
 * was on its way. Safety does not depend on when a follower learns the commit
 * index, and follower reads are unaffected: a ReadIndex round's heartbeats
 * carry it.
 */
export function bcastCommit(r: Raft): void {
  if (!r.cfg.deferCommitBroadcast) return bcastAppend(r);
  const committed = r.raftLog.committed;
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id) continue;
    const waiting = pr.forwardedIndex > 0 && pr.forwardedIndex <= committed;
    // A paused follower gets nothing now either way; it is told when it resumes.
    if (!maybeSendAppend(r, id, waiting)) pr.commitPending = true;
  }
}

/** Sends the commit index to every follower that was not told it yet (see bcastCommit). */
export function flushPendingCommits(r: Raft): void {
  for (const [id, pr] of r.trk.progress) if (id !== r.id && pr.commitPending) sendAppend(r, id);
}

/** Sends the proposals appended since the last Ready to every follower whose flow control allows. */
export function flushAppends(r: Raft): void {
  if (!r.appendsPending) return;
  r.appendsPending = false;
  if (r.state !== StateType.Leader) return;
  for (const id of r.trk.progress.keys()) {
    if (id === r.id) continue;
    while (maybeSendAppend(r, id, false)) {
      /* one more message while the window and maxSizePerMsg allow */
    }
  }
}

export function bcastHeartbeat(r: Raft): void {
  bcastHeartbeatWithCtx(r, r.readOnly.lastPendingRequestCtx() ?? EMPTY_BYTES);
}

export function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array): void {
  for (const id of r.trk.progress.keys()) if (id !== r.id) sendHeartbeat(r, id, ctx);
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send(newMessage(MessageType.TimeoutNow, to));
}
