// Raft paper §5.4 (safety): the election restriction, and committing only entries of
// the current term by counting replicas (figure 8).

import { describe, expect, it } from 'vitest';
import { MessageType, NONE, StateType } from '../../src/raft/types';
import { newMessage } from '../../src/raft/util';
import { enc, TestCluster } from './helpers';

const ids = ['1', '2', '3'];

describe('safety (§5.4)', () => {
  it('a leader never commits an entry of an older term by counting replicas (figure 8)', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    // An entry of term t that reaches no one else.
    c.isolate('1');
    c.node('1').propose(enc('old'));
    c.stabilize();
    c.heal();
    const r = c.node('1').raft;
    const oldIndex = r.raftLog.lastIndex();
    const oldTerm = r.term;
    // Re-elected in a later term, but its appends are lost for now.
    r.becomeFollower(r.term, NONE);
    c.filter = (m) => m.type === MessageType.App;
    c.elect('1');
    expect(r.state).toBe(StateType.Leader);
    expect(r.term).toBeGreaterThan(oldTerm);
    const ack = (index: number) => {
      const m = newMessage(MessageType.AppResp, '1', '2');
      m.term = r.term;
      m.index = index;
      r.step(m);
    };
    // A majority (1 and 2) holds the old-term entry: still not committed.
    ack(oldIndex);
    expect(r.raftLog.committed).toBeLessThan(oldIndex);
    // Once an entry of the current term is on a majority, both commit.
    ack(oldIndex + 1);
    expect(r.raftLog.committed).toBe(oldIndex + 1);
  });

  it('a new leader appends an empty entry of its term so earlier entries can commit', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    const r = c.node('1').raft;
    const e = r.raftLog.slice(r.raftLog.lastIndex(), r.raftLog.lastIndex() + 1, Infinity)[0]!;
    expect(e.term).toBe(r.term);
    expect(e.data.length).toBe(0);
  });

  it('a member missing a committed entry cannot win an election (leader completeness)', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    c.isolate('3');
    c.node('1').propose(enc('committed'));
    c.stabilize();
    expect(c.appliedData('2')).toEqual(['committed']);
    c.heal();
    c.filter = (m) => m.from === '1' || m.to === '1'; // 1 is gone; 2 and 3 remain
    c.elect('3');
    expect(c.node('3').raft.state).not.toBe(StateType.Leader);
    c.elect('2');
    expect(c.node('2').raft.state).toBe(StateType.Leader);
    c.stabilize();
    expect(c.appliedData('3')).toEqual(['committed']);
  });

  it('a follower refuses to overwrite an entry at or below its commit index', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    c.node('1').propose(enc('x'));
    c.stabilize();
    const f = c.node('2').raft;
    const ci = f.raftLog.committed;
    expect(() => f.raftLog.maybeAppend(ci - 1, f.raftLog.termAt(ci - 1), ci, [{ term: 99, index: ci, type: 0, data: enc('y') }])).toThrow();
  });

  it('every member applies the same entries in the same order', () => {
    const c = new TestCluster(['1', '2', '3', '4', '5']);
    c.stabilize();
    c.elect('1');
    for (let i = 0; i < 20; i++) c.node(String((i % 5) + 1)).propose(enc(`v${i}`));
    c.stabilize();
    const first = c.appliedData('1');
    expect(first).toHaveLength(20);
    for (const id of ['2', '3', '4', '5']) expect(c.appliedData(id)).toEqual(first);
  });
});
