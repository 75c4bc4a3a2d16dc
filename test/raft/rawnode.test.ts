// The driver API: status, bootstrap, local-message guard, proposal quotas and batches.

import { describe, expect, it } from 'vitest';
import { ErrProposalDropped, ErrStepLocalMsg } from '../../src/raft/errors';
import { ProgressState } from '../../src/raft/progress';
import { RawNode } from '../../src/raft/rawnode';
import { MemoryStorage } from '../../src/raft/storage';
import { MessageType, StateType } from '../../src/raft/types';
import { newMessage } from '../../src/raft/util';
import { enc, TestCluster } from './helpers';

describe('RawNode', () => {
  it('status() reports role, term, commit and, on the leader, every member’s progress', () => {
    const c = new TestCluster(['1', '2', '3']);
    c.stabilize();
    c.elect('1');
    const s = c.node('1').status();
    expect(s.raftState).toBe(StateType.Leader);
    expect(s.lead).toBe('1');
    expect(s.commit).toBe(c.node('1').raft.raftLog.committed);
    expect(s.applied).toBe(s.commit);
    expect([...s.progress!.keys()].sort()).toEqual(['1', '2', '3']);
    expect(s.progress!.get('2')!.state).toBe(ProgressState.Replicate);
    expect(s.progress!.get('2')!.match).toBe(s.commit);
    expect(c.node('2').status().progress).toBeUndefined();
  });

  it('bootstrap refuses a storage that already has a log', () => {
    const st = new MemoryStorage();
    st.append([{ term: 1, index: 1, type: 0, data: enc('x') }]);
    const rn = new RawNode({ id: '1', electionTick: 10, heartbeatTick: 1, storage: st, rand: 1 });
    expect(() => rn.bootstrap(['1'])).toThrow();
  });

  it('local-only message types are refused from the network', () => {
    const c = new TestCluster(['1']);
    expect(() => c.node('1').step(newMessage(MessageType.Hup, '1', '2'))).toThrow(ErrStepLocalMsg);
  });

  it('proposals beyond maxUncommittedEntriesSize are dropped until entries commit', () => {
    const c = new TestCluster(['1', '2', '3'], { maxUncommittedEntriesSize: 100 });
    c.stabilize();
    c.elect('1');
    c.isolate('1');
    const rn = c.node('1');
    rn.propose(new Uint8Array(60));
    expect(() => rn.propose(new Uint8Array(60))).toThrow(ErrProposalDropped);
    c.heal();
    c.tick('1');
    c.stabilize();
    rn.propose(new Uint8Array(60));
  });

  it('proposeBatch appends many entries with one broadcast', () => {
    const c = new TestCluster(['1', '2', '3']);
    c.stabilize();
    c.elect('1');
    c.node('1').proposeBatch([enc('a'), enc('b'), enc('c')]);
    const rd = c.node('1').ready();
    expect(rd.entries.map((e) => e.data.length)).toEqual([1, 1, 1]);
    expect(rd.messages.filter((m) => m.type === MessageType.App)).toHaveLength(2);
    c.node('1').advance(rd);
  });
});
