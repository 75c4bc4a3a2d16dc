// Leader-persisted notices (not in etcd's raft): how a follower whose client is
// waiting on a forwarded proposal learns that it is committed one message hop
// sooner.
//
// The usual path is four hops after the follower's own write: its
// acknowledgement to the leader, the leader's Raft round, an append carrying
// the new commit index back, and the follower's Raft round. But the leader
// writes its log in parallel with its followers, and when that write is done
// it knows "my log is durable through P". If the leader and this follower
// together are a quorum (every 3-member cluster), the follower can then
// conclude by itself that an entry it has persisted at index c <= P, of the
// leader's term, is stored on a quorum: committed, in Raft's own sense (the
// entry is on a majority in its leader's term, so every later leader holds
// it). It is exactly what the leader would conclude on that follower's
// acknowledgement; the follower just does not wait to be told.
//
// Why this is safe:
// - The follower checks that its entry at c has the current term. Only the
//   leader of that term wrote such entries, and log matching then makes its
//   whole log through c the leader's, which is durable through P >= c.
// - The notice is only about the term it was sent in: a follower drops it
//   when its term changes (Raft.reset) and ignores notices of other terms.
// - The leader decides whether {leader, follower} is a quorum, with its own
//   configuration, and only while no conf change is in its log beyond what it
//   applied: every entry up to P is then governed by that configuration, as
//   the leader's own commit rule would use it.
// - Only what both have fsynced counts (persistedIndex on each side), so an
//   acknowledged write is still on a majority's disks.
//
// Reads: a follower may now apply, and answer its client for, entries the
// leader does not yet know to be committed. A read point must cover every write
// already acknowledged anywhere, so the leader's is the larger of its commit
// index and the highest index it sent in a notice this term (readPoint in
// read_index.ts); a read there waits until those entries are applied.
//
// A follower sent a notice covering its forwarded proposals is no longer told
// the commit index at once with an empty append (see bcastCommit): it learns
// it itself when the later of the two writes is done. If the notice were lost
// with a broken stream, the next append, heartbeat or the leader's tick
// (flushPendingCommits) still carries the commit index.

import { jointCommitted } from './quorum';
import type { Raft } from './raft';
import { MessageType, NodeId } from './types';
import { newMessage } from './util';

/** Leader: after its own write reached `persisted`, tell the followers that wait on forwarded proposals. */
export function sendPersistedNotices(r: Raft): void {
  const log = r.raftLog;
  const persisted = log.persistedIndex();
  if (persisted <= log.committed) return;
  // A conf change not yet applied could change which members form a quorum.
  if (r.pendingConfIndex > log.applied) return;
  for (const [id, pr] of r.trk.progress) {
    // forwardedIndex <= committed: it is told the commit index the usual way.
    if (id === r.id || pr.forwardedIndex <= log.committed) continue;
    if (!isPairQuorum(r, id)) continue;
    const m = newMessage(MessageType.LeaderPersisted, id);
    m.index = persisted;
    r.send(m);
    if (persisted > r.persistedNoticeIndex) r.persistedNoticeIndex = persisted;
    if (persisted >= pr.forwardedIndex) pr.forwardedIndex = 0;
  }
}

/** Whether this leader and `id` alone are a quorum of the leader's (possibly joint) configuration. */
function isPairQuorum(r: Raft, id: NodeId): boolean {
  const cfg = r.trk.config;
  return jointCommitted(cfg.voters, cfg.votersOutgoing, (v) => (v === r.id || v === id ? 1 : 0)) >= 1;
}

/** Follower: a notice from the leader of our term. */
export function stepLeaderPersisted(r: Raft, index: number): void {
  if (index > r.leaderPersisted) r.leaderPersisted = index;
  commitFromLeaderPersisted(r);
}

/**
 * Follower: commit what both the leader (as it told us) and this member have
 * persisted, if our entry there is of the leader's term. Runs on a notice and
 * after each of our own writes, whichever of the two comes last.
 */
export function commitFromLeaderPersisted(r: Raft): void {
  if (r.leaderPersisted === 0) return;
  const log = r.raftLog;
  const c = Math.min(r.leaderPersisted, log.persistedIndex());
  if (c > log.committed && log.termAt(c) === r.term) log.commitTo(c);
}
