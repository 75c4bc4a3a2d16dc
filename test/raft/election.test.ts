// Raft paper §5.2 (leader election), plus pre-vote and check-quorum (thesis §9.6).

import { describe, expect, it } from 'vitest';
import { CAMPAIGN_TRANSFER } from '../../src/raft/raft';
import { MessageType, NONE, StateType } from '../../src/raft/types';
import { newMessage } from '../../src/raft/util';
import { TestCluster } from './helpers';

const ids = ['1', '2', '3'];

describe('election (§5.2)', () => {
  it('a follower that hears nothing for its election timeout becomes a candidate of the next term', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    const r = c.node('1').raft;
    const term = r.term;
    c.tick('1', 2 * 10);
    expect(r.state).toBe(StateType.Candidate);
    expect(r.term).toBe(term + 1);
    expect(r.vote).toBe('1');
    c.processReady('1');
    expect(c.sent(MessageType.Vote).map((m) => m.to).sort()).toEqual(['2', '3']);
  });

  it('randomized election timeouts lie in [electionTick, 2*electionTick) and differ by seed', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 50; seed++) {
      const c = new TestCluster(['1'], { rand: seed });
      const r = c.node('1').raft;
      r.resetRandomizedElectionTimeout();
      expect(r.randomizedElectionTimeout).toBeGreaterThanOrEqual(10);
      expect(r.randomizedElectionTimeout).toBeLessThan(20);
      seen.add(r.randomizedElectionTimeout);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it('a candidate that wins a majority becomes leader and appends an empty entry of its term', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    const r = c.node('1').raft;
    expect(r.state).toBe(StateType.Leader);
    const last = r.raftLog.lastIndex();
    expect(r.raftLog.termAt(last)).toBe(r.term);
    expect(c.applied.get('2')!.at(-1)!.data.length).toBe(0);
  });

  it('a candidate rejected by a majority returns to follower', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    const r = c.node('1').raft;
    r.campaign('election');
    for (const from of ['2', '3']) {
      const m = newMessage(MessageType.VoteResp, '1', from);
      m.term = r.term;
      m.reject = true;
      r.step(m);
    }
    expect(r.state).toBe(StateType.Follower);
  });

  it('each member grants at most one vote per term', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    const r = c.node('3').raft;
    const vote = (from: string) => {
      const m = newMessage(MessageType.Vote, '3', from);
      m.term = 5;
      m.index = r.raftLog.lastIndex();
      m.logTerm = r.raftLog.lastTerm();
      r.step(m);
      return r.msgs.pop()!;
    };
    expect(vote('1').reject).toBe(false);
    expect(vote('2').reject).toBe(true);
    expect(vote('1').reject).toBe(false); // repeated request from the same candidate
  });

  it('a vote is refused to a candidate whose log is less up to date (§5.4.1)', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    const r = c.node('3').raft;
    const lastIndex = r.raftLog.lastIndex();
    const lastTerm = r.raftLog.lastTerm();
    const ask = (term: number, index: number, logTerm: number) => {
      const m = newMessage(MessageType.Vote, '3', '2');
      m.term = term;
      m.index = index;
      m.logTerm = logTerm;
      r.step(m);
      return r.msgs.pop()!;
    };
    expect(ask(10, lastIndex + 5, lastTerm - 1).reject).toBe(true); // older last term
    expect(ask(11, lastIndex - 1, lastTerm).reject).toBe(true); // same term, shorter log
    expect(ask(12, lastIndex, lastTerm).reject).toBe(false); // as up to date
  });

  it('a message with a higher term turns any member into a follower of that term', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    const r = c.node('1').raft;
    const m = newMessage(MessageType.App, '1', '2');
    m.term = r.term + 3;
    m.index = r.raftLog.lastIndex();
    m.logTerm = r.raftLog.lastTerm();
    r.step(m);
    expect(r.state).toBe(StateType.Follower);
    expect(r.term).toBe(m.term);
    expect(r.lead).toBe('2');
  });

  it('messages from an older term are ignored', () => {
    const c = new TestCluster(ids);
    c.stabilize();
    c.elect('1');
    const r = c.node('2').raft;
    const before = { term: r.term, last: r.raftLog.lastIndex() };
    const m = newMessage(MessageType.App, '2', '3');
    m.term = r.term - 1;
    m.index = r.raftLog.lastIndex();
    m.logTerm = r.raftLog.lastTerm();
    m.entries = [{ term: r.term - 1, index: before.last + 1, type: 0, data: new Uint8Array([1]) }];
    r.step(m);
    expect(r.raftLog.lastIndex()).toBe(before.last);
    expect(r.term).toBe(before.term);
  });

  it('the leader sends a heartbeat every heartbeatTick', () => {
    const c = new TestCluster(ids, { heartbeatTick: 2 });
    c.stabilize();
    c.elect('1');
    c.processReady('1');
    c.queue = [];
    c.tick('1', 1);
    c.processReady('1');
    expect(c.sent(MessageType.Heartbeat)).toHaveLength(0);
    c.tick('1', 1);
    c.processReady('1');
    expect(c.sent(MessageType.Heartbeat).map((m) => m.to).sort()).toEqual(['2', '3']);
  });
});

describe('pre-vote and check-quorum (thesis §9.6)', () => {
  it('a pre-candidate does not increase its term', () => {
    const c = new TestCluster(ids, { preVote: true });
    c.stabilize();
    const r = c.node('1').raft;
    const term = r.term;
    r.campaign('pre');
    expect(r.state).toBe(StateType.PreCandidate);
    expect(r.term).toBe(term);
    c.processReady('1');
    expect(c.sent(MessageType.PreVote).every((m) => m.term === term + 1)).toBe(true);
  });

  it('a partitioned member with pre-vote does not disrupt the leader when it rejoins', () => {
    const c = new TestCluster(ids, { preVote: true });
    c.stabilize();
    c.elect('1');
    const term = c.node('1').raft.term;
    c.isolate('3');
    for (let i = 0; i < 100; i++) {
      c.tick('3');
      c.stabilize();
    }
    expect(c.node('3').raft.term).toBe(term);
    c.heal();
    c.tick('1');
    c.stabilize();
    expect(c.node('1').raft.state).toBe(StateType.Leader);
    expect(c.node('1').raft.term).toBe(term);
  });

  it('check-quorum: a leader that does not hear from a quorum for an election timeout steps down', () => {
    const c = new TestCluster(ids, { checkQuorum: true });
    c.stabilize();
    c.elect('1');
    c.isolate('1');
    for (let i = 0; i < 21; i++) {
      c.tick('1');
      c.stabilize();
    }
    expect(c.node('1').raft.state).toBe(StateType.Follower);
  });

  it('check-quorum: a follower with a live leader ignores vote requests (leader lease)', () => {
    const c = new TestCluster(ids, { checkQuorum: true });
    c.stabilize();
    c.elect('1');
    const r = c.node('2').raft;
    const term = r.term;
    const m = newMessage(MessageType.Vote, '2', '3');
    m.term = term + 1;
    m.index = r.raftLog.lastIndex() + 10;
    m.logTerm = term;
    r.step(m);
    expect(r.term).toBe(term);
    expect(r.msgs).toHaveLength(0);
    // ... but a transfer campaign may break the lease.
    m.context = CAMPAIGN_TRANSFER;
    r.step(m);
    expect(r.term).toBe(term + 1);
    expect(r.msgs.pop()!.reject).toBe(false);
  });

  it('forgetLeader: followers of a dead leader grant pre-votes at once and campaign within the random part of their timeout', () => {
    const c = new TestCluster(ids, { preVote: true, checkQuorum: true });
    c.stabilize();
    c.elect('1');
    const term = c.node('1').raft.term;
    c.isolate('1'); // as good as dead
    for (const id of ['2', '3']) c.node(id).forgetLeader('1');
    expect(c.node('2').raft.lead).toBe(NONE);
    // Without forgetting, the first campaign would need at least 10 ticks (electionTick).
    let ticks = 0;
    while (c.leaders().filter((l) => l !== '1').length === 0 && ticks < 10) {
      for (const id of ['2', '3']) c.tick(id);
      c.stabilize();
      ticks++;
    }
    const newLeader = c.leaders().find((l) => l !== '1');
    expect(newLeader).toBeDefined();
    expect(ticks).toBeLessThan(10);
    expect(c.node(newLeader!).raft.term).toBe(term + 1);
  });

  it('forgetLeader: one follower forgetting a live leader does not disrupt it', () => {
    const c = new TestCluster(ids, { preVote: true, checkQuorum: true });
    c.stabilize();
    c.elect('1');
    const term = c.node('1').raft.term;
    c.node('2').forgetLeader('1');
    // Only a leader it believes in is forgotten; a candidate or another id is left alone.
    c.node('3').forgetLeader('2');
    expect(c.node('3').raft.lead).toBe('1');
    for (let i = 0; i < 30; i++) {
      for (const id of ids) c.tick(id);
      c.stabilize();
    }
    expect(c.node('1').raft.state).toBe(StateType.Leader);
    expect(c.node('1').raft.term).toBe(term);
    expect(c.node('2').raft.lead).toBe('1');
  });

  it('learners and removed members never campaign', () => {
    const c = new TestCluster(['1', '2']);
    c.stabilize();
    c.add('9'); // not in any configuration
    c.tick('9', 100);
    expect(c.node('9').raft.state).toBe(StateType.Follower);
    c.node('1').raft.applyConfChange({ transition: 0, changes: [{ type: 3, nodeId: '1' }], context: new Uint8Array() });
    c.tick('1', 100);
    expect(c.node('1').raft.state).toBe(StateType.Follower);
  });
});
