import { describe, expect, it } from 'vitest';
import { StateType } from '../../src/raft/types';
import { enc, TestCluster } from './helpers';

describe('smoke', () => {
  it('three members elect a leader and replicate a proposal', () => {
    const c = new TestCluster(['1', '2', '3']);
    c.stabilize();
    c.elect('1');
    expect(c.node('1').raft.state).toBe(StateType.Leader);
    c.node('1').propose(enc('hello'));
    c.stabilize();
    for (const id of ['1', '2', '3']) expect(c.appliedData(id)).toEqual(['hello']);
  });
});
