// Thesis §6.4 (linearizable reads with ReadIndex): heartbeat-confirmed read points,
// reads held back until the leader commits in its term, forwarding, lease mode.

import { describe, expect, it } from 'vitest';
import { RawNode } from '../../src/raft/rawnode';
import { MemoryStorage } from '../../src/raft/storage';
import { MessageType } from '../../src/raft/types';
import { enc, TestCluster } from './helpers';

const ids = ['1', '2', '3'];

function cluster(opts = {}): TestCluster {
  const c = new TestCluster(ids, opts);
  c.stabilize();
  c.elect('1');
  c.node('1').propose(enc('x'));
  c.stabilize();
  return c;
}

describe('ReadIndex (thesis §6.4)', () => {
  it('safe mode answers only after a quorum acknowledges a heartbeat carrying the read', () => {
    const c = cluster();
    c.filter = (m) => m.type === MessageType.HeartbeatResp;
    c.node('1').readIndex(enc('r1'));
    c.stabilize();
    expect(c.readStates.get('1')).toEqual([]);
    c.filter = () => false;
    c.node('1').readIndex(enc('r2'));
    c.stabilize();
    // The later round's quorum also confirms the earlier read.
    const commit = c.node('1').raft.raftLog.committed;
    expect(c.readStates.get('1')).toEqual([
      { index: commit, ctx: 'r1' },
      { index: commit, ctx: 'r2' },
    ]);
  });

  it('one acknowledgement besides the leader is a quorum of three', () => {
    const c = cluster();
    c.filter = (m) => m.from === '3' || m.to === '3';
    c.node('1').readIndex(enc('r'));
    c.stabilize();
    expect(c.readStates.get('1')!.map((r) => r.ctx)).toEqual(['r']);
  });

  it('a new leader holds reads until it has committed an entry of its own term', () => {
    const c = cluster();
    c.filter = (m) => m.type === MessageType.AppResp;
    c.elect('2');
    const r = c.node('2').raft;
    expect(r.committedEntryInCurrentTerm()).toBe(false);
    c.node('2').readIndex(enc('early'));
    c.stabilize();
    expect(r.pendingReadIndexMessages).toHaveLength(1);
    expect(c.readStates.get('2')).toEqual([]);
    c.filter = () => false;
    c.tick('2');
    c.stabilize();
    expect(c.readStates.get('2')).toEqual([{ index: r.raftLog.committed, ctx: 'early' }]);
    expect(r.raftLog.termAt(r.raftLog.committed)).toBe(r.term);
  });

  it('a follower forwards the read to the leader and gets the read index back', () => {
    const c = cluster();
    c.node('3').readIndex(enc('via-3'));
    c.stabilize();
    expect(c.readStates.get('3')).toEqual([{ index: c.node('1').raft.raftLog.committed, ctx: 'via-3' }]);
  });

  it('a read with no leader known is dropped', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.node('2').readIndex(enc('nobody'));
    c.stabilize();
    expect(c.readStates.get('2')).toEqual([]);
  });

  it('a single-member cluster answers at once', () => {
    const c = new TestCluster(['1']);
    c.stabilize();
    c.elect('1');
    c.node('1').readIndex(enc('solo'));
    c.stabilize();
    expect(c.readStates.get('1')).toEqual([{ index: c.node('1').raft.raftLog.committed, ctx: 'solo' }]);
  });

  it('lease-based reads require check-quorum', () => {
    expect(() => new RawNode({ id: '1', electionTick: 10, heartbeatTick: 1, storage: new MemoryStorage(), rand: 1, readOnlyOption: 'leaseBased' })).toThrow();
  });

  it('lease-based reads are answered without a heartbeat round', () => {
    const c = cluster({ readOnlyOption: 'leaseBased', checkQuorum: true });
    c.filter = (m) => m.type === MessageType.Heartbeat;
    c.node('1').readIndex(enc('lease'));
    c.stabilize();
    expect(c.readStates.get('1')!.map((r) => r.ctx)).toEqual(['lease']);
  });

  it('a late acknowledgement of an old heartbeat does not confirm a newer read with the same context', () => {
    const c = cluster();
    const r = c.node('1').raft;
    c.filter = (m) => m.type === MessageType.HeartbeatResp;
    c.node('1').readIndex(enc('same'));
    c.stabilize();
    // Capture the acks for the first round, then retry with the same context.
    const acks: { ctx: Uint8Array }[] = [];
    c.filter = (m) => {
      if (m.type === MessageType.HeartbeatResp) acks.push({ ctx: m.context });
      return m.type === MessageType.HeartbeatResp;
    };
    c.node('1').readIndex(enc('same'));
    c.stabilize();
    expect(acks.length).toBeGreaterThan(0);
    // The contexts on the wire are per round, not the client's bytes.
    expect(new Set(acks.map((a) => Buffer.from(a.ctx).toString('hex'))).size).toBe(1);
    expect(r.readOnly.size).toBe(2);
  });
});
