// leaderPersistedNotice: a leader whose own write is done tells the followers
// waiting on proposals they forwarded how far its log is durable; where the two
// form a quorum, such a follower commits by itself (src/raft/persisted_notice.ts).

import { describe, expect, it } from 'vitest';
import { RawNode } from '../../src/raft/rawnode';
import { MemoryStorage } from '../../src/raft/storage';
import { EntryType, Message, MessageType } from '../../src/raft/types';
import { newMessage } from '../../src/raft/util';
import { enc, TestCluster } from './helpers';

const OPTS = { deferCommitBroadcast: true, leaderPersistedNotice: true, heartbeatTick: 3 };

function leaderCluster(ids = ['1', '2', '3'], opts: object = OPTS): TestCluster {
  const c = new TestCluster(ids, opts);
  c.stabilize();
  c.elect('1');
  c.tick('1');
  c.stabilize();
  return c;
}

/** Takes the queued messages, delivering those `keep` accepts (to their node) and returning the rest. */
function deliver(c: TestCluster, keep: (m: Message) => boolean): Message[] {
  const q = c.queue;
  c.queue = [];
  const rest: Message[] = [];
  for (const m of q) {
    if (keep(m)) c.node(m.to).step(m);
    else rest.push(m);
  }
  return rest;
}

/** Counts the messages of `type` from the leader while `fn` runs. */
function counting(c: TestCluster, type: MessageType, fn: () => void): Message[] {
  const seen: Message[] = [];
  c.filter = (m) => {
    if (m.type === type) seen.push(m);
    return false;
  };
  fn();
  c.filter = () => false;
  return seen;
}

/** '2' forwards a put and the cluster runs until quiet; the notices sent meanwhile. '2' applies the put either way. */
function forwardedPutNotices(c: TestCluster, first: () => void = () => {}): Message[] {
  const notices = counting(c, MessageType.LeaderPersisted, () => {
    first();
    c.node('2').propose(enc('x'));
    c.stabilize();
  });
  expect(c.appliedData('2')).toEqual(['x']);
  return notices;
}

describe('leader-persisted notices', () => {
  it('a follower commits its forwarded proposal from the notice, without an empty append', () => {
    const c = leaderCluster();
    let empties = 0;
    const notices = counting(c, MessageType.LeaderPersisted, () => {
      const inner = c.filter;
      c.filter = (m) => {
        if (m.type === MessageType.App && m.entries.length === 0) empties++;
        return inner(m);
      };
      c.node('2').propose(enc('from-2'));
      c.stabilize();
    });
    expect(notices.map((m) => [m.from, m.to])).toEqual([['1', '2']]);
    expect(empties).toBe(0);
    expect(c.appliedData('2')).toEqual(['from-2']);
    // The other follower waits for nothing: it hears the commit later, as before.
    expect(c.appliedData('3')).toEqual([]);
  });

  it('the notice may arrive before the follower\'s own write: it commits once that write is done', () => {
    const c = leaderCluster();
    c.node('2').propose(enc('x'));
    c.processReady('2'); // forwards the proposal
    deliver(c, () => true);
    c.processReady('1'); // persists, sends the appends; its advance makes the notice
    c.processReady('1'); // sends the notice
    const index = c.node('1').raft.raftLog.lastIndex();
    expect(c.sent(MessageType.LeaderPersisted).map((m) => m.index)).toEqual([index]);
    const before = c.node('2').raft.raftLog.committed;
    deliver(c, (m) => m.to === '2'); // the append and the notice, nothing persisted yet
    expect(c.node('2').raft.raftLog.committed).toBe(before);
    c.processReady('2'); // persists the entry: now both have it on disk
    expect(c.node('2').raft.raftLog.committed).toBe(index);
    c.processReady('2');
    expect(c.appliedData('2')).toEqual(['x']);
    // The leader has not heard any acknowledgement yet: it does not know.
    expect(c.node('1').raft.raftLog.committed).toBeLessThan(index);
    expect(c.appliedData('1')).toEqual([]);
  });

  it('a read on the leader covers what a follower may have applied from a notice', () => {
    const c = leaderCluster();
    c.node('2').propose(enc('x'));
    c.processReady('2');
    deliver(c, () => true);
    c.processReady('1');
    c.processReady('1');
    const index = c.node('1').raft.raftLog.lastIndex();
    // The acknowledgements are lost; the read is issued after '2' could have answered its client.
    c.filter = (m) => m.type === MessageType.AppResp;
    c.node('1').readIndex(enc('r1'));
    c.stabilize();
    expect(c.appliedData('2')).toEqual(['x']);
    expect(c.node('1').raft.raftLog.committed).toBeLessThan(index);
    c.filter = () => false;
    // The heartbeats of the read confirmed leadership; its read point is the notice's index.
    expect(c.readStates.get('1')!.map((s) => s.index)).toEqual([index]);
  });

  it('a lost notice: the follower hears the commit on the leader\'s next tick', () => {
    const c = leaderCluster();
    c.filter = (m) => m.type === MessageType.LeaderPersisted;
    c.node('2').propose(enc('x'));
    c.stabilize();
    c.filter = () => false;
    expect(c.appliedData('2')).toEqual([]);
    c.tick('1');
    c.stabilize();
    expect(c.appliedData('2')).toEqual(['x']);
  });

  it('no notices where the leader and one follower are not a quorum (5 members)', () => {
    expect(forwardedPutNotices(leaderCluster(['1', '2', '3', '4', '5']))).toEqual([]);
  });

  it('no notices while a conf change is in the log beyond what the leader applied', () => {
    const c = leaderCluster();
    const addLearner = () => c.node('1').proposeConfChange({ transition: 0, changes: [{ type: 3, nodeId: '4' }], context: new Uint8Array(0) });
    expect(forwardedPutNotices(c, addLearner)).toEqual([]);
  });

  it('off by default: no notices, and the follower still learns its commit at once', () => {
    expect(forwardedPutNotices(leaderCluster(['1', '2', '3'], { deferCommitBroadcast: true, heartbeatTick: 3 }))).toEqual([]);
  });

  it('a follower commits nothing whose entry is of an older term, until the leader rewrites it', () => {
    // Follower '2' holds entries 1-3 of term 1, uncommitted; the leader of term 2 says it persisted through 3.
    const storage = new MemoryStorage();
    storage.applySnapshot({
      metadata: { index: 0 + 1, term: 1, confState: { voters: ['1', '2', '3'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
      data: new Uint8Array(0),
    });
    storage.append([2, 3].map((index) => ({ term: 1, index, type: EntryType.Normal, data: enc(`old${index}`) })));
    storage.setHardState({ term: 2, vote: '1', commit: 1 });
    const rn = new RawNode({ id: '2', electionTick: 10, heartbeatTick: 1, storage, applied: 1, rand: 1, leaderPersistedNotice: true });
    const notice = newMessage(MessageType.LeaderPersisted, '2', '1');
    notice.term = 2;
    notice.index = 3;
    rn.step(notice);
    expect(rn.raft.raftLog.committed).toBe(1);
    // The leader's append replaces index 3 with its own entry of term 2.
    const app = newMessage(MessageType.App, '2', '1');
    app.term = 2;
    app.index = 2;
    app.logTerm = 1;
    app.commit = 1;
    app.entries = [{ term: 2, index: 3, type: EntryType.Normal, data: enc('new3') }];
    rn.step(app);
    expect(rn.raft.raftLog.committed).toBe(1); // not on this member's disk yet
    const rd = rn.ready();
    storage.append(rd.entries);
    rn.advance(rd);
    expect(rn.raft.raftLog.committed).toBe(3);
  });

  it('a notice from another term is ignored', () => {
    const c = leaderCluster();
    const f = c.node('2');
    const stale = newMessage(MessageType.LeaderPersisted, '2', '1');
    stale.term = f.raft.term - 1;
    stale.index = 1_000;
    f.step(stale);
    expect(f.raft.leaderPersisted).toBe(0);
  });
});
