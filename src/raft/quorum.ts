// Quorum arithmetic: the commit index a (joint) majority has acknowledged, and the
// outcome of a vote. A joint configuration needs both majorities to agree.

import { NodeId } from './types';

export type VoteResult = 'pending' | 'lost' | 'won';

/** The highest index acknowledged by a majority of voters; Infinity for an empty set (so joint min ignores it). */
export function majorityCommitted(voters: ReadonlySet<NodeId>, acked: (id: NodeId) => number): number {
  const n = voters.size;
  if (n === 0) return Infinity;
  if (n === 1) for (const id of voters) return acked(id);
  // Runs on every acknowledgement a leader steps. Array.prototype.sort with a
  // comparator allocated a work array each time (the largest single allocation
  // site of a leader under one client's puts, 6 % of its bytes); an insertion
  // sort into a reused array allocates nothing, and voter sets are small.
  const idx = n <= SCRATCH.length ? SCRATCH : new Array<number>(n);
  let i = 0;
  for (const id of voters) {
    const v = acked(id);
    let j = i++;
    for (; j > 0 && idx[j - 1]! < v; j--) idx[j] = idx[j - 1]!;
    idx[j] = v;
  }
  // Sorted descending: the (n/2+1)-th largest value is acked by a majority.
  return idx[n >> 1]!;
}

/** Reused by majorityCommitted (single-threaded, and `acked` never re-enters it). */
const SCRATCH: number[] = new Array<number>(16).fill(0);

export function jointCommitted(
  incoming: ReadonlySet<NodeId>,
  outgoing: ReadonlySet<NodeId>,
  acked: (id: NodeId) => number,
): number {
  const c = Math.min(majorityCommitted(incoming, acked), majorityCommitted(outgoing, acked));
  return c === Infinity ? 0 : c;
}

/** votes: true = granted, false = rejected, missing = not yet heard. */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = (voters.size >> 1) + 1;
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}

export function jointVoteResult(
  incoming: ReadonlySet<NodeId>,
  outgoing: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const r1 = majorityVoteResult(incoming, votes);
  const r2 = majorityVoteResult(outgoing, votes);
  if (r1 === r2) return r1;
  if (r1 === 'lost' || r2 === 'lost') return 'lost';
  return 'pending';
}
