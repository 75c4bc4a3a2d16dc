// One seeded simulation schedule: a 3- or 5-member cluster under random faults with
// client proposals, reads, compaction and membership changes, then a healed phase
// that must elect a leader and apply every acknowledged proposal everywhere.

import { ErrProposalDropped } from '../../../src/raft/errors';
import { mulberry32, Rand, randInt } from '../../../src/raft/prng';
import { ConfChangeTransition, ConfChangeType, NodeId } from '../../../src/raft/types';
import { SimCluster, SimMember } from './cluster';
import { NO_FAULTS } from './network';

export interface ScheduleResult {
  seed: number;
  size: number;
  ticks: number;
  committed: number;
  reads: number;
  /** LeaderPersisted notices sent. */
  notices: number;
  leaderTerms: number;
  fingerprint: number;
}

const SUB_ROUNDS = 3;

function pick<T>(rand: Rand, xs: readonly T[]): T {
  return xs[randInt(rand, xs.length)]!;
}

export function runSchedule(seed: number): ScheduleResult {
  const rand = mulberry32(seed);
  // Faults added later draw from their own stream, so each seed keeps the schedule
  // it always had (and the seeds quoted for planted bugs stay meaningful).
  const rand2 = mulberry32(seed ^ 0x5bd1e995);
  // A third of the schedules are "churn": leaders often die right after persisting and
  // before sending, one entry per append. That is what builds Raft figure 8 (entries of
  // several terms at one index, on different minorities).
  const churn = rand() < 0.35;
  const size = rand() < (churn ? 0.4 : 0.6) ? 3 : 5;
  const electionTick = 10;
  const opts = {
    electionTick,
    heartbeatTick: pick(rand, [1, 2, 3]),
    preVote: rand() < 0.7,
    checkQuorum: rand() < 0.7,
    maxInflightMsgs: 1 + randInt(rand, 4),
    // 1 byte: one entry per MsgApp, so acknowledgements can stop between entries.
    maxSizePerMsg: churn ? 1 : pick(rand, [1, 64, 1 << 20]),
    readyCrash: pick(rand, [0, 0, 0.003, 0.02]),
    leaderSendCrash: churn ? pick(rand, [0.2, 0.4]) : pick(rand, [0, 0.02, 0.1]),
    earlySend: rand() < 0.5,
    // Its own generator, so adding it left every other choice of a seed as it was.
    deferCommitBroadcast: mulberry32(seed ^ 0x2545f491)() < 0.5,
    leaderPersistedNotice: mulberry32(seed ^ 0x3c6ef372)() < 0.5,
  };
  const c = new SimCluster(rand, opts, seed);
  c.net.faults = {
    drop: pick(rand, churn ? [0, 0.02, 0.1] : [0, 0.02, 0.1, 0.25]),
    dup: pick(rand, [0, 0.05, 0.15]),
    delay: pick(rand, [0, 0.2, 0.5]),
    maxDelay: 1 + randInt(rand, 6),
    stale: pick(rand, [0, 0, 0.005, 0.02]),
  };
  const confChanges = rand() < 0.4;
  // Some schedules crash members often (and restart them quickly): divergent logs.
  const crashRate = churn ? 0.06 : pick(rand, [0.01, 0.02, 0.06]);
  const restartRate = churn ? 0.25 : pick(rand, [0.05, 0.2]);
  const partitionRate = pick(rand, [0.02, 0.08]);
  const healRate = pick(rand, [0.05, 0.15]);
  const ids = Array.from({ length: size }, (_, i) => String(i + 1));
  const spares = [String(size + 1), String(size + 2)];
  const removed = new Set<NodeId>();
  for (const id of ids) c.addMember(id, ids);

  let proposals = 0;
  let reads = 0;
  let partitioned = false;
  const faultTicks = 100 + randInt(rand, 80);
  const randomAlive = (): SimMember | undefined => {
    const a = c.alive();
    return a.length ? pick(rand, a) : undefined;
  };

  for (let t = 0; t < faultTicks; t++) {
    c.tick();
    for (let s = 0; s < SUB_ROUNDS; s++) c.subRound();
    if (rand() < 0.5) {
      // A burst of client proposals, half of them sent to the (highest-term) leader.
      const m = rand() < 0.5 ? (c.leader() ?? randomAlive()) : randomAlive();
      const n = 1 + randInt(rand, 3);
      if (m && rand() < 0.3) c.proposeBatch(m, Array.from({ length: n }, () => `p${proposals++}`));
      else for (let i = 0; m && i < n; i++) c.propose(m, `p${proposals++}`);
    }
    if (rand() < 0.25) {
      const m = randomAlive();
      if (m) c.read(m, `r${reads++}`);
    }
    if (rand() < crashRate) {
      // Leaders crash half the time: that is where elections and divergent logs come from.
      const m = rand() < 0.5 ? (c.leader() ?? randomAlive()) : randomAlive();
      if (m) c.crash(m);
    }
    if (rand() < restartRate) {
      const dead = [...c.members.values()].filter((m) => !m.alive);
      // Churn restarts the member down longest: it comes back with the oldest view of
      // the log while fresher members may be down, the figure-8 situation.
      if (dead.length) c.restart(churn ? dead.reduce((a, b) => (b.crashedAt < a.crashedAt ? b : a)) : pick(rand, dead));
    }
    if (!partitioned && rand() < partitionRate) {
      const all = [...c.members.keys()];
      const leader = c.leader();
      const a: NodeId[] = [];
      const b: NodeId[] = [];
      if (leader && rand() < 0.5) {
        // Cut the leader off alone: it keeps accepting proposals that will never
        // commit, which is what makes logs diverge across terms.
        for (const id of all) (id === leader.id ? a : b).push(id);
      } else {
        for (const id of all) (rand() < 0.5 ? a : b).push(id);
      }
      c.net.partition([a, b]);
      partitioned = true;
    } else if (partitioned && rand() < healRate) {
      c.net.heal();
      partitioned = false;
    }
    if (rand() < 0.02) {
      const m = randomAlive();
      if (m) c.compact(m, randInt(rand, 4));
    }
    if (confChanges && rand() < 0.03) confChange(c, rand, size, spares, removed);
    if (rand2() < 0.03) {
      // A member's transport says its leader's stream closed: sometimes the leader
      // is really gone, sometimes it was a blip and the leader lives on.
      const m = c.alive().length ? pick(rand2, c.alive()) : undefined;
      if (m) m.rn!.forgetLeader(m.rn!.raft.lead);
    }
    if (rand() < 0.01) {
      // Leadership transfer to a random voter (it may be down, lagging or cut off).
      const l = c.leader();
      if (l) l.rn!.transferLeader(pick(rand, l.rn!.raft.trk.voterIds()));
    }
  }

  // Heal everything; the cluster must recover on its own.
  c.net.faults = NO_FAULTS;
  c.net.heal();
  c.opts.readyCrash = 0;
  c.opts.leaderSendCrash = 0;
  for (const m of c.members.values()) c.restart(m);
  const target = c.checker.maxApplied;
  const leaderBound = 30 * electionTick;
  const catchUpBound = 60 * electionTick;
  let ticks = 0;
  let leaderAt = -1;
  for (;;) {
    c.tick();
    for (let s = 0; s < SUB_ROUNDS; s++) c.subRound();
    ticks++;
    const l = c.leader();
    const inConf = l !== undefined && l.rn!.raft.trk.isVoter(l.id);
    if (inConf && leaderAt < 0) leaderAt = ticks;
    if (!inConf && ticks > leaderBound) c.checker.fail(`liveness: no leader ${leaderBound} ticks after healing`);
    if (inConf) {
      const cs = l.rn!.raft.trk.confState();
      const members = [...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext];
      const behind = members.filter((id) => (c.members.get(id)?.appliedIndex ?? 0) < target);
      if (behind.length === 0) break;
      if (ticks > catchUpBound) {
        c.checker.fail(`liveness: members ${behind.join(',')} have not applied index ${target} ${catchUpBound} ticks after healing`);
      }
    } else if (ticks > catchUpBound) {
      c.checker.fail('liveness: no stable leader after healing');
    }
  }
  return {
    seed,
    size,
    ticks: faultTicks + ticks,
    committed: c.checker.proposalsCommitted,
    notices: c.notices,
    reads: c.checker.readsAnswered,
    leaderTerms: c.checker.leaderTerms,
    fingerprint: c.checker.fingerprint(),
  };
}

function confChange(c: SimCluster, rand: Rand, size: number, spares: NodeId[], removed: Set<NodeId>): void {
  const l = c.leader();
  if (!l) return;
  const r = l.rn!.raft;
  const cs = r.trk.confState();
  if (cs.votersOutgoing.length > 0) return;
  const single = (type: ConfChangeType, nodeId: NodeId) => ({ transition: ConfChangeTransition.Auto, changes: [{ type, nodeId }], context: new Uint8Array(0) });
  let cc;
  const learner = cs.learners[0];
  const spare = spares.find((id) => !removed.has(id) && !cs.voters.includes(id) && !cs.learners.includes(id));
  if (learner !== undefined) {
    if (rand() < 0.5) cc = single(ConfChangeType.AddNode, learner);
    else {
      // Joint consensus: promote the learner and remove a voter in one step.
      const victim = pick(rand, cs.voters);
      cc = {
        transition: ConfChangeTransition.Auto,
        changes: [
          { type: ConfChangeType.AddNode, nodeId: learner },
          { type: ConfChangeType.RemoveNode, nodeId: victim },
        ],
        context: new Uint8Array(0),
      };
      removed.add(victim);
    }
  } else if (cs.voters.length > size) {
    const victim = pick(rand, cs.voters);
    cc = single(ConfChangeType.RemoveNode, victim);
    removed.add(victim);
  } else if (spare !== undefined) {
    if (!c.members.has(spare)) c.addMember(spare);
    cc = single(ConfChangeType.AddLearnerNode, spare);
  } else return;
  try {
    l.rn!.proposeConfChange(cc);
  } catch (e) {
    if (!(e instanceof ErrProposalDropped)) throw e;
    // Nothing was proposed: the member is not removed after all.
    for (const ch of cc.changes) if (ch.type === ConfChangeType.RemoveNode) removed.delete(ch.nodeId);
  }
}
