// Thesis §3.10 (leadership transfer): catch the target up, MsgTimeoutNow, drop
// proposals meanwhile, abort after an election timeout.

import { describe, expect, it } from 'vitest';
import { ErrProposalDropped } from '../../src/raft/errors';
import { MessageType, StateType } from '../../src/raft/types';
import { enc, TestCluster } from './helpers';

const ids = ['1', '2', '3'];

function cluster(opts = {}): TestCluster {
  const c = new TestCluster(ids, opts);
  c.stabilize();
  c.elect('1');
  return c;
}

describe('leadership transfer (thesis §3.10)', () => {
  it('an up-to-date target gets MsgTimeoutNow and becomes leader', () => {
    const c = cluster({ checkQuorum: true, preVote: true });
    const term = c.node('1').raft.term;
    c.node('1').transferLeader('2');
    c.stabilize();
    expect(c.node('2').raft.state).toBe(StateType.Leader);
    expect(c.node('2').raft.term).toBe(term + 1);
    expect(c.node('1').raft.state).toBe(StateType.Follower);
  });

  it('a lagging target is caught up first', () => {
    const c = cluster();
    c.isolate('3');
    for (let i = 0; i < 5; i++) c.node('1').propose(enc(`e${i}`));
    c.stabilize();
    c.heal();
    let timeoutNowBeforeCaughtUp = false;
    c.filter = (m) => {
      if (m.type === MessageType.TimeoutNow) {
        timeoutNowBeforeCaughtUp = c.node('3').raft.raftLog.lastIndex() < c.node('1').raft.raftLog.lastIndex();
      }
      return false;
    };
    c.node('1').transferLeader('3');
    c.stabilize();
    expect(timeoutNowBeforeCaughtUp).toBe(false);
    expect(c.node('3').raft.state).toBe(StateType.Leader);
    expect(c.appliedData('3')).toHaveLength(5);
  });

  it('proposals are dropped while a transfer is in progress', () => {
    const c = cluster();
    c.isolate('3');
    c.node('1').transferLeader('3');
    expect(c.node('1').raft.leadTransferee).toBe('3');
    expect(() => c.node('1').propose(enc('x'))).toThrow(ErrProposalDropped);
  });

  it('a transfer that does not finish within an election timeout is aborted', () => {
    const c = cluster();
    c.isolate('3');
    c.node('1').transferLeader('3');
    for (let i = 0; i < 10; i++) {
      c.tick('1');
      c.stabilize();
    }
    expect(c.node('1').raft.leadTransferee).toBe('');
    expect(c.node('1').raft.state).toBe(StateType.Leader);
    c.node('1').propose(enc('after'));
    c.stabilize();
    expect(c.appliedData('2')).toEqual(['after']);
  });

  it('a follower forwards a transfer request to the leader', () => {
    const c = cluster();
    c.node('2').transferLeader('2');
    c.stabilize();
    expect(c.node('2').raft.state).toBe(StateType.Leader);
    // ... keeping the transferee it names, even when that is a third member.
    c.node('1').transferLeader('3');
    c.stabilize();
    expect(c.node('3').raft.state).toBe(StateType.Leader);
  });
});
