// Throughput of the Raft core alone: a 3-member cluster in one process, storage in
// memory, messages handed over directly. Clients propose continuously; each member's
// driver loop persists, sends, applies and advances one Ready at a time. Prints the
// committed entries per second and the median entries per Ready (the batching factor).
//
//   npm run bench:raft            (defaults: 64 proposals per loop turn, 256-byte payloads)
//   RAFT_BENCH_BATCH=256 RAFT_BENCH_SECONDS=5 npm run bench:raft

import { RawNode } from '../src/raft/rawnode';
import { MemoryStorage } from '../src/raft/storage';
import { Message, StateType } from '../src/raft/types';

const batch = Number(process.env.RAFT_BENCH_BATCH ?? 64);
const seconds = Number(process.env.RAFT_BENCH_SECONDS ?? 3);
const payloadSize = Number(process.env.RAFT_BENCH_PAYLOAD ?? 256);
const ids = ['1', '2', '3'];

interface Member {
  rn: RawNode;
  storage: MemoryStorage;
  applied: number;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function main(): void {
  const members = new Map<string, Member>();
  for (const [i, id] of ids.entries()) {
    const storage = new MemoryStorage();
    const rn = new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage, rand: i + 1, maxInflightMsgs: 256, maxSizePerMsg: 1 << 20, checkQuorum: true, preVote: true });
    rn.bootstrap(ids);
    members.set(id, { rn, storage, applied: 0 });
  }
  let queue: Message[] = [];
  const entriesPerReady: number[] = [];
  const committedPerReady: number[] = [];
  let readies = 0;

  const drive = (m: Member, record: boolean): void => {
    while (m.rn.hasReady()) {
      const rd = m.rn.ready();
      readies++;
      if (rd.snapshot) m.storage.applySnapshot(rd.snapshot);
      if (rd.entries.length) m.storage.append(rd.entries);
      if (rd.hardState) m.storage.setHardState(rd.hardState);
      for (const msg of rd.messages) queue.push(msg);
      if (rd.committedEntries.length) {
        m.applied = rd.committedEntries[rd.committedEntries.length - 1]!.index;
        if (record) committedPerReady.push(rd.committedEntries.length);
      }
      if (record && rd.entries.length) entriesPerReady.push(rd.entries.length);
      m.rn.advance(rd);
      // Snapshot and compact like a server would, so the log stays bounded.
      if (m.applied - m.storage.snapshot().metadata.index >= 20_000) {
        m.storage.createSnapshot(m.applied, m.rn.raft.trk.confState(), new Uint8Array(0));
        m.storage.compact(m.applied - 5_000);
      }
    }
  };
  const deliver = (): void => {
    const q = queue;
    queue = [];
    for (const msg of q) members.get(msg.to)!.rn.step(msg);
  };

  const leader = members.get('1')!;
  // Persist and apply the bootstrap entries first: no member campaigns with unapplied conf changes.
  for (const m of members.values()) drive(m, false);
  leader.rn.campaign();
  for (let i = 0; i < 20 && leader.rn.raft.state !== StateType.Leader; i++) {
    for (const m of members.values()) drive(m, false);
    deliver();
  }
  for (let i = 0; i < 20; i++) {
    for (const m of members.values()) drive(m, false);
    deliver();
  }
  if (leader.rn.raft.state !== StateType.Leader) throw new Error('no leader');

  const payload = new Uint8Array(payloadSize);
  const start = performance.now();
  const startApplied = leader.applied;
  let proposed = 0;
  let turns = 0;
  while (performance.now() - start < seconds * 1000) {
    // Clients: one propose() call each, as the server would make per request.
    for (let i = 0; i < batch; i++) leader.rn.propose(payload);
    proposed += batch;
    for (const m of members.values()) drive(m, m === leader);
    deliver();
    if (++turns % 64 === 0) leader.rn.tick();
  }
  // Drain what is in flight so every proposal is counted once committed.
  for (let i = 0; i < 50; i++) {
    for (const m of members.values()) drive(m, false);
    deliver();
  }
  const elapsed = (performance.now() - start) / 1000;
  const committed = leader.applied - startApplied;
  console.log(
    JSON.stringify(
      {
        members: ids.length,
        proposalsPerTurn: batch,
        payloadBytes: payloadSize,
        seconds: Number(elapsed.toFixed(2)),
        proposed,
        committed,
        committedPerSecond: Math.round(committed / elapsed),
        medianEntriesPerReady: median(entriesPerReady),
        medianCommittedEntriesPerReady: median(committedPerReady),
        leaderReadies: entriesPerReady.length,
        totalReadies: readies,
      },
      null,
      2,
    ),
  );
}

main();
