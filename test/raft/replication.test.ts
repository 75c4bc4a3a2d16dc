// Raft paper §5.3 (log replication), flow control, and the Ready contract.

import { describe, expect, it } from 'vitest';
import { ErrProposalDropped } from '../../src/raft/errors';
import { ProgressState } from '../../src/raft/progress';
import { bcastHeartbeat } from '../../src/raft/replicate';
import { Entry, MessageType, StateType } from '../../src/raft/types';
import { newMessage } from '../../src/raft/util';
import { enc, TestCluster } from './helpers';

const ids = ['1', '2', '3'];

function leaderCluster(opts = {}): TestCluster {
  const c = new TestCluster(ids, opts);
  c.stabilize();
  c.elect('1');
  return c;
}

describe('log replication (§5.3)', () => {
  it('the leader appends a proposal, replicates it, and commits it once a majority has it', () => {
    const c = leaderCluster();
    const r = c.node('1').raft;
    c.node('1').propose(enc('x'));
    const idx = r.raftLog.lastIndex();
    c.filter = (m) => m.to === '3';
    c.stabilize();
    expect(r.raftLog.committed).toBe(idx);
    expect(c.appliedData('1')).toEqual(['x']);
    expect(c.appliedData('2')).toEqual(['x']);
    expect(c.appliedData('3')).toEqual([]);
  });

  it('a follower rejects an append whose previous entry does not match (consistency check)', () => {
    const c = leaderCluster();
    const f = c.node('2').raft;
    const m = newMessage(MessageType.App, '2', '1');
    m.term = f.term;
    m.index = f.raftLog.lastIndex() + 5;
    m.logTerm = f.term;
    f.step(m);
    const resp = f.msgs.pop()!;
    expect(resp.type).toBe(MessageType.AppResp);
    expect(resp.reject).toBe(true);
    expect(resp.rejectHint).toBe(f.raftLog.lastIndex());
  });

  it('fast backtracking: a follower far behind is caught up in a few round trips, not one per entry', () => {
    const c = leaderCluster();
    c.isolate('3');
    for (let i = 0; i < 100; i++) c.node('1').propose(enc(`e${i}`));
    c.stabilize();
    c.heal();
    let appends = 0;
    c.filter = (m) => {
      if (m.type === MessageType.App && m.to === '3') appends++;
      return false;
    };
    c.tick('1');
    c.stabilize();
    expect(c.appliedData('3')).toHaveLength(100);
    expect(appends).toBeLessThan(10);
  });

  it('conflicting uncommitted entries on a follower are replaced by the leader’s', () => {
    const c = leaderCluster();
    // 1 accepts proposals while cut off; they never commit.
    c.isolate('1');
    c.node('1').propose(enc('lost'));
    c.stabilize();
    c.heal();
    c.elect('2');
    c.node('2').propose(enc('kept'));
    c.stabilize();
    for (const id of ids) expect(c.appliedData(id)).toEqual(['kept']);
  });

  it('a stale, shorter append does not truncate entries already appended', () => {
    const c = leaderCluster();
    const f = c.node('2').raft;
    const base = f.raftLog.lastIndex();
    const t = f.term;
    const e = (i: number): Entry => ({ term: t, index: i, type: 0, data: enc(`v${i}`) });
    const app = (ents: Entry[]) => {
      const m = newMessage(MessageType.App, '2', '1');
      m.term = t;
      m.index = base;
      m.logTerm = f.raftLog.termAt(base);
      m.entries = ents;
      m.commit = f.raftLog.committed;
      f.step(m);
    };
    app([e(base + 1), e(base + 2), e(base + 3)]);
    app([e(base + 1)]); // delayed duplicate of an earlier, shorter append
    expect(f.raftLog.lastIndex()).toBe(base + 3);
  });

  it('heartbeats carry min(match, commit) so a follower never commits what it may not hold', () => {
    const c = leaderCluster();
    c.isolate('3');
    c.node('1').propose(enc('x'));
    c.stabilize();
    const r = c.node('1').raft;
    bcastHeartbeat(r);
    const hb = r.msgs.filter((m) => m.type === MessageType.Heartbeat);
    expect(hb.find((m) => m.to === '2')!.commit).toBe(r.raftLog.committed);
    expect(hb.find((m) => m.to === '3')!.commit).toBe(r.trk.progress.get('3')!.match);
    expect(r.trk.progress.get('3')!.match).toBeLessThan(r.raftLog.committed);
  });

  it('a follower forwards proposals to the leader', () => {
    const c = leaderCluster();
    c.node('3').propose(enc('via-3'));
    c.stabilize();
    for (const id of ids) expect(c.appliedData(id)).toEqual(['via-3']);
  });

  it('a proposal with no known leader is dropped with ErrProposalDropped', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    expect(() => c.node('1').propose(enc('x'))).toThrow(ErrProposalDropped);
  });

  it('the inflight window bounds the appends in flight to a follower that does not answer', () => {
    const c = leaderCluster({ maxInflightMsgs: 3, maxSizePerMsg: 1 });
    const r = c.node('1').raft;
    expect(r.trk.progress.get('2')!.state).toBe(ProgressState.Replicate);
    c.filter = (m) => m.from === '2';
    for (let i = 0; i < 20; i++) c.node('1').propose(enc(`e${i}`));
    let toTwo = 0;
    c.filter = (m) => {
      if (m.to === '2' && m.type === MessageType.App) toTwo++;
      return m.from === '2' || m.to === '2';
    };
    c.stabilize();
    expect(toTwo).toBe(3);
    expect(r.trk.progress.get('2')!.inflights.full()).toBe(true);
  });

  it('a rejected append moves a replicating follower back to probe', () => {
    const c = leaderCluster();
    const r = c.node('1').raft;
    const pr = r.trk.progress.get('2')!;
    const m = newMessage(MessageType.AppResp, '1', '2');
    m.term = r.term;
    m.index = pr.match + 1;
    m.reject = true;
    m.rejectHint = pr.match;
    pr.next = pr.match + 2;
    r.step(m);
    expect(pr.state).toBe(ProgressState.Probe);
  });
});

describe('Ready contract', () => {
  it('many proposals between Readies come out in one Ready and one broadcast', () => {
    const c = leaderCluster();
    const rn = c.node('1');
    for (let i = 0; i < 500; i++) rn.propose(enc(`e${i}`));
    const rd = rn.ready();
    expect(rd.entries).toHaveLength(500);
    expect(rd.mustSync).toBe(true);
    rn.advance(rd);
  });

  it('committed entries are handed out only after they were persisted (advance)', () => {
    const c = new TestCluster(['1']);
    c.stabilize();
    c.elect('1');
    const rn = c.node('1');
    rn.propose(enc('x'));
    const rd = rn.ready();
    expect(rd.entries).toHaveLength(1);
    // Single voter: nothing may commit before our own write completed.
    expect(rd.committedEntries).toHaveLength(0);
    expect(rn.raft.raftLog.committed).toBeLessThan(rd.entries[0]!.index);
    c.storages.get('1')!.append(rd.entries);
    rn.advance(rd);
    const rd2 = rn.ready();
    expect(rd2.committedEntries.map((e) => e.index)).toEqual([rd.entries[0]!.index]);
    rn.advance(rd2);
  });

  it('no second Ready is produced before advance', () => {
    const c = leaderCluster();
    const rn = c.node('1');
    rn.propose(enc('x'));
    const rd = rn.ready();
    rn.propose(enc('y'));
    expect(rn.hasReady()).toBe(false);
    expect(() => rn.ready()).toThrow();
    rn.advance(rd);
    expect(rn.hasReady()).toBe(true);
  });

  it('softState reports leadership changes', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.node('1').campaign();
    c.stabilize();
    expect(c.node('1').raft.softState()).toEqual({ lead: '1', raftState: StateType.Leader });
  });
});
