// Raft paper §6 / thesis §4 (cluster membership changes): learners, single changes,
// joint consensus with automatic leave, one pending change at a time.

import { describe, expect, it } from 'vitest';
import { ErrInvalidConfChange, ErrProposalDropped } from '../../src/raft/errors';
import { ConfChange, ConfChangeTransition, ConfChangeType, NodeId, StateType } from '../../src/raft/types';
import { enc, TestCluster } from './helpers';

const cc = (...changes: [ConfChangeType, NodeId][]): ConfChange => ({
  transition: ConfChangeTransition.Auto,
  changes: changes.map(([type, nodeId]) => ({ type, nodeId })),
  context: new Uint8Array(),
});

function cluster(ids = ['1', '2', '3']): TestCluster {
  const c = new TestCluster(ids);
  c.stabilize();
  c.elect('1');
  return c;
}

describe('membership (§6)', () => {
  it('a learner receives the log but neither votes nor counts for the quorum', () => {
    const c = cluster();
    c.add('4');
    c.node('1').proposeConfChange(cc([ConfChangeType.AddLearnerNode, '4']));
    c.stabilize();
    const r = c.node('1').raft;
    expect(r.trk.config.learners.has('4')).toBe(true);
    c.node('1').propose(enc('x'));
    c.stabilize();
    expect(c.appliedData('4')).toEqual(['x']);
    // With 2 and 3 silent, the learner's ack does not make a quorum.
    c.filter = (m) => m.from === '2' || m.from === '3';
    c.node('1').propose(enc('y'));
    const before = r.raftLog.committed;
    c.stabilize();
    expect(r.raftLog.committed).toBe(before);
    // A learner never campaigns.
    c.tick('4', 100);
    expect(c.node('4').raft.state).toBe(StateType.Follower);
  });

  it('a learner can be promoted to voter', () => {
    const c = cluster();
    c.add('4');
    c.node('1').proposeConfChange(cc([ConfChangeType.AddLearnerNode, '4']));
    c.stabilize();
    c.node('1').proposeConfChange(cc([ConfChangeType.AddNode, '4']));
    c.stabilize();
    expect(c.node('4').raft.trk.config.voters.has('4')).toBe(true);
    expect(c.node('4').raft.isLearner).toBe(false);
    expect(c.node('4').raft.promotable()).toBe(true);
  });

  it('removing a voter shrinks the quorum, and the removed member stops campaigning', () => {
    const c = cluster();
    c.node('1').proposeConfChange(cc([ConfChangeType.RemoveNode, '3']));
    c.stabilize();
    expect([...c.node('1').raft.trk.config.voters].sort()).toEqual(['1', '2']);
    c.tick('3', 100);
    expect(c.node('3').raft.state).toBe(StateType.Follower);
    c.isolate('3');
    c.node('1').propose(enc('two-of-two'));
    c.stabilize();
    expect(c.appliedData('2')).toEqual(['two-of-two']);
  });

  it('only one conf change may be pending: a second is dropped until the first is applied', () => {
    const c = cluster();
    c.add('4');
    c.add('5');
    c.node('1').proposeConfChange(cc([ConfChangeType.AddLearnerNode, '4']));
    expect(() => c.node('1').proposeConfChange(cc([ConfChangeType.AddLearnerNode, '5']))).toThrow(ErrProposalDropped);
    c.stabilize();
    c.node('1').proposeConfChange(cc([ConfChangeType.AddLearnerNode, '5']));
    c.stabilize();
    expect([...c.node('1').raft.trk.config.learners].sort()).toEqual(['4', '5']);
  });

  it('several changes at once go through joint consensus and leave it automatically', () => {
    const c = cluster();
    c.add('4');
    c.node('1').proposeConfChange(cc([ConfChangeType.AddLearnerNode, '4']));
    c.stabilize();
    const seen: string[][] = [];
    const rn = c.node('1');
    rn.proposeConfChange(cc([ConfChangeType.AddNode, '4'], [ConfChangeType.RemoveNode, '3']));
    // Step manually to observe the joint configuration before it is left.
    for (let i = 0; i < 50 && seen.length < 2; i++) {
      c.round();
      const conf = rn.raft.trk.confState();
      if (conf.votersOutgoing.length > 0 && seen.length === 0) seen.push(conf.votersOutgoing);
      if (seen.length === 1 && conf.votersOutgoing.length === 0) seen.push(conf.voters);
    }
    c.stabilize();
    expect(seen[0]).toEqual(['1', '2', '3']);
    const conf = rn.raft.trk.confState();
    expect(conf.voters).toEqual(['1', '2', '4']);
    expect(conf.votersOutgoing).toEqual([]);
    expect(conf.autoLeave).toBe(false);
  });

  it('a leader that removes itself steps down', () => {
    const c = cluster();
    c.node('1').proposeConfChange(cc([ConfChangeType.RemoveNode, '1']));
    c.stabilize();
    expect(c.node('1').raft.state).toBe(StateType.Follower);
    expect(c.node('1').raft.promotable()).toBe(false);
    // The remaining two elect a new leader on their own.
    for (let i = 0; i < 40 && c.leaders().length === 0; i++) {
      c.tick('2');
      c.tick('3');
      c.stabilize();
    }
    expect(c.leaders().filter((id) => id !== '1')).toHaveLength(1);
  });

  it('changing two voters without joint consensus is refused', () => {
    const c = cluster();
    const r = c.node('1').raft;
    expect(() =>
      r.applyConfChange({
        transition: ConfChangeTransition.Auto,
        changes: [],
        context: new Uint8Array(),
      }),
    ).toThrow(ErrInvalidConfChange);
    expect(() => r.applyConfChange(cc([ConfChangeType.RemoveNode, '1'], [ConfChangeType.RemoveNode, '2'], [ConfChangeType.RemoveNode, '3']))).toThrow(
      ErrInvalidConfChange,
    );
  });
});
