// Raft paper §7 (log compaction): MemoryStorage semantics, snapshots sent to members
// that need compacted entries, and restarting from a snapshot.

import { describe, expect, it } from 'vitest';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from '../../src/raft/errors';
import { ProgressState } from '../../src/raft/progress';
import { RawNode } from '../../src/raft/rawnode';
import { MemoryStorage } from '../../src/raft/storage';
import { Entry, MessageType } from '../../src/raft/types';
import { emptyConfState } from '../../src/raft/util';
import { enc, TestCluster } from './helpers';

const ent = (index: number, term: number): Entry => ({ index, term, type: 0, data: enc(`${index}`) });

describe('MemoryStorage', () => {
  it('compact drops entries up to an index but keeps its term for the consistency check', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)]);
    s.compact(2);
    expect(s.firstIndex()).toBe(3);
    expect(s.term(2)).toBe(1);
    expect(() => s.term(1)).toThrow(ErrCompacted);
    expect(() => s.entries(2, 4, Infinity)).toThrow(ErrCompacted);
    expect(() => s.entries(3, 6, Infinity)).toThrow(ErrUnavailable);
    expect(() => s.compact(2)).toThrow(ErrCompacted);
  });

  it('append truncates a conflicting suffix and ignores compacted entries', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    s.append([ent(2, 2)]);
    expect(s.lastIndex()).toBe(2);
    expect(s.term(2)).toBe(2);
    s.compact(1);
    s.append([ent(1, 1), ent(2, 2), ent(3, 2)]);
    expect(s.lastIndex()).toBe(3);
  });

  it('entries respects maxSize but always returns at least one entry', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    expect(s.entries(1, 4, 0)).toHaveLength(1);
    expect(s.entries(1, 4, Infinity)).toHaveLength(3);
  });

  it('createSnapshot and applySnapshot refuse older snapshots', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    const cs = { ...emptyConfState(), voters: ['1'] };
    const snap = s.createSnapshot(2, cs, enc('img'));
    expect(snap.metadata).toEqual({ index: 2, term: 1, confState: cs });
    expect(() => s.createSnapshot(1, cs, enc('x'))).toThrow(ErrSnapOutOfDate);
    const t = new MemoryStorage();
    t.applySnapshot(snap);
    expect(t.firstIndex()).toBe(3);
    expect(t.lastIndex()).toBe(2);
    expect(() => t.applySnapshot(snap)).toThrow(ErrSnapOutOfDate);
  });
});

function compactLeader(c: TestCluster, id: string): void {
  const st = c.storages.get(id)!;
  const applied = c.applied.get(id)!.at(-1)!.index;
  st.createSnapshot(applied, c.node(id).raft.trk.confState(), enc(JSON.stringify(c.appliedData(id))));
  st.compact(applied);
}

describe('snapshots (§7)', () => {
  it('a follower that needs compacted entries gets the snapshot, restores it and catches up', () => {
    const c = new TestCluster(['1', '2', '3']);
    c.stabilize();
    c.elect('1');
    c.isolate('3');
    for (let i = 0; i < 10; i++) c.node('1').propose(enc(`e${i}`));
    c.stabilize();
    compactLeader(c, '1');
    c.node('1').propose(enc('after'));
    c.stabilize();
    c.heal();
    let snaps = 0;
    c.filter = (m) => {
      if (m.type === MessageType.Snap) {
        snaps++;
        // The transport reports a delivered snapshot.
        c.node(m.from).reportSnapshot(m.to, true);
      }
      return false;
    };
    c.tick('1');
    c.stabilize();
    expect(snaps).toBe(1);
    const f = c.node('3').raft;
    expect(c.storages.get('3')!.snapshot().metadata.index).toBeGreaterThan(0);
    expect(f.raftLog.committed).toBe(c.node('1').raft.raftLog.committed);
    expect(c.appliedData('3')).toEqual(['after']); // the rest came inside the snapshot
    expect(c.node('1').raft.trk.progress.get('3')!.state).toBe(ProgressState.Replicate);
  });

  it('a failed snapshot send moves the follower back to probe and it is retried', () => {
    const c = new TestCluster(['1', '2', '3']);
    c.stabilize();
    c.elect('1');
    c.isolate('3');
    c.node('1').propose(enc('x'));
    c.stabilize();
    compactLeader(c, '1');
    c.heal();
    let attempt = 0;
    c.filter = (m) => {
      if (m.type !== MessageType.Snap) return false;
      attempt++;
      c.node('1').reportSnapshot('3', attempt > 1);
      return attempt === 1; // the first send fails
    };
    c.tick('1');
    c.stabilize();
    const pr = c.node('1').raft.trk.progress.get('3')!;
    expect(pr.state).toBe(ProgressState.Probe);
    for (let i = 0; i < 3; i++) {
      c.tick('1');
      c.stabilize();
    }
    expect(attempt).toBe(2);
    expect(c.node('3').raft.raftLog.committed).toBe(c.node('1').raft.raftLog.committed);
  });

  it('reportUnreachable moves a replicating follower to probe', () => {
    const c = new TestCluster(['1', '2']);
    c.stabilize();
    c.elect('1');
    const pr = c.node('1').raft.trk.progress.get('2')!;
    expect(pr.state).toBe(ProgressState.Replicate);
    c.node('1').reportUnreachable('2');
    expect(pr.state).toBe(ProgressState.Probe);
  });

  it('a member restarts from its snapshot, hard state and persisted entries', () => {
    const c = new TestCluster(['1', '2', '3']);
    c.stabilize();
    c.elect('1');
    for (let i = 0; i < 5; i++) c.node('1').propose(enc(`e${i}`));
    c.stabilize();
    compactLeader(c, '2');
    const st = c.storages.get('2')!;
    const before = c.node('2').raft;
    const rn = new RawNode({ id: '2', electionTick: 10, heartbeatTick: 1, storage: st, applied: st.snapshot().metadata.index, rand: 9 });
    expect(rn.raft.term).toBe(before.term);
    expect(rn.raft.raftLog.committed).toBe(before.raftLog.committed);
    expect(rn.raft.raftLog.lastIndex()).toBe(before.raftLog.lastIndex());
    expect(rn.raft.trk.confState().voters).toEqual(['1', '2', '3']);
    expect(rn.hasReady()).toBe(false); // everything up to the snapshot is already applied
  });
});
