// deferCommitBroadcast: a leader tells followers a new commit index with their
// next message, or on its next tick, instead of with an empty append at once;
// followers waiting on proposals they forwarded, and reads, are told at once.

import { describe, expect, it } from 'vitest';
import { MessageType } from '../../src/raft/types';
import { enc, dec, TestCluster } from './helpers';

const ids = ['1', '2', '3'];

function leaderCluster(deferCommitBroadcast: boolean): TestCluster {
  // heartbeatTick 3: a tick that is not a heartbeat tick shows the flush on its own.
  const c = new TestCluster(ids, { deferCommitBroadcast, heartbeatTick: 3 });
  c.stabilize();
  c.elect('1');
  c.tick('1');
  c.stabilize();
  return c;
}

/** Counts the appends without entries the leader sends while `fn` runs. */
function emptyAppends(c: TestCluster, fn: () => void): number {
  let n = 0;
  c.filter = (m) => {
    if (m.type === MessageType.App && m.from === '1' && m.entries.length === 0) n++;
    return false;
  };
  fn();
  c.filter = () => false;
  return n;
}

/** Proposes `v` on the leader and runs the cluster to quiet; the empty appends it cost. */
function proposeCountingEmpties(c: TestCluster, v: string): number {
  return emptyAppends(c, () => {
    c.node('1').propose(enc(v));
    c.stabilize();
  });
}

describe('commit broadcast', () => {
  it("etcd's way (the default): a commit goes out at once in an empty append to every follower", () => {
    const c = leaderCluster(false);
    const empties = proposeCountingEmpties(c, 'x');
    expect(empties).toBe(2);
    expect(c.appliedData('2')).toEqual(['x']);
    expect(c.appliedData('3')).toEqual(['x']);
  });

  it('deferred: no empty appends; followers learn the commit on the leader\'s next tick', () => {
    const c = leaderCluster(true);
    const empties = proposeCountingEmpties(c, 'x');
    expect(empties).toBe(0);
    expect(c.appliedData('1')).toEqual(['x']);
    expect(c.appliedData('2')).toEqual([]);
    expect(c.appliedData('3')).toEqual([]);
    const pr = c.node('1').raft.trk.progress;
    expect(pr.get('2')!.commitPending && pr.get('3')!.commitPending).toBe(true);

    const onTick = emptyAppends(c, () => {
      c.tick('1');
      c.stabilize();
    });
    expect(onTick).toBe(2);
    expect(c.appliedData('2')).toEqual(['x']);
    expect(c.appliedData('3')).toEqual(['x']);
    expect(pr.get('2')!.commitPending || pr.get('3')!.commitPending).toBe(false);
    // Nothing left to tell: the next tick sends nothing.
    expect(emptyAppends(c, () => c.tick('1'))).toBe(0);
  });

  it('deferred: the next append carries the previous commit', () => {
    const c = leaderCluster(true);
    c.node('1').propose(enc('x'));
    c.stabilize();
    c.node('1').propose(enc('y'));
    c.stabilize();
    expect(c.appliedData('2')).toEqual(['x']);
    expect(c.appliedData('1')).toEqual(['x', 'y']);
  });

  it('deferred: a heartbeat carries the commit, and the tick after it has nothing to send', () => {
    const c = leaderCluster(true);
    c.node('1').propose(enc('x'));
    c.stabilize();
    // Two ticks with nothing pending after the first, then the heartbeat tick.
    const sent = emptyAppends(c, () => {
      c.tick('1', 3);
      c.stabilize();
    });
    expect(sent).toBe(2);
    expect(c.appliedData('3')).toEqual(['x']);
  });

  it('deferred: a follower that forwarded a proposal is told its commit at once, the other is not', () => {
    const c = leaderCluster(true);
    c.node('2').propose(enc('from-2'));
    c.stabilize();
    expect(c.appliedData('2')).toEqual(['from-2']);
    expect(c.appliedData('3')).toEqual([]);
    expect(c.node('1').raft.trk.progress.get('2')!.forwardedIndex).toBe(0);
  });

  it("deferred: a follower's linearizable read sees the commit before its read state", () => {
    const c = leaderCluster(true);
    c.node('1').propose(enc('x'));
    c.stabilize();
    expect(c.appliedData('3')).toEqual([]);
    c.node('3').readIndex(enc('r1'));
    c.stabilize();
    const rs = c.readStates.get('3')!;
    expect(rs.map((s) => s.ctx)).toEqual(['r1']);
    // The ReadIndex round's heartbeats told it the commit: it has applied up to the read index.
    expect(c.node('3').raft.raftLog.committed).toBeGreaterThanOrEqual(rs[0]!.index);
    expect(c.applied.get('3')!.map((e) => dec(e.data))).toContain('x');
  });
});
