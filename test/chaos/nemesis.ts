// The fault schedule of a chaos run, and how to play it against a cluster. The
// schedule is a pure function of (seed, duration, members), so a failing run replays
// with the same faults at the same offsets; who "the leader" is gets resolved only
// when a fault starts, because that is not knowable in advance.

import type { LinkMode } from './proxy';
import { mulberry32, randInt, shuffle, type Rng } from './rng';

export type FaultKind = 'kill-leader' | 'kill-follower' | 'pause' | 'isolate-leader' | 'partition' | 'latency' | 'kill-all' | 'replace-member';

export const ALL_FAULT_KINDS: readonly FaultKind[] = ['kill-leader', 'kill-follower', 'pause', 'isolate-leader', 'partition', 'latency', 'kill-all'];

/**
 * Faults a run takes only when asked (`npm run chaos -- --replace`):
 * 'replace-member' removes a member through the Cluster API, wipes its data dir,
 * and at the fault's end adds it back as a new member that joins from nothing.
 * Left out of the default schedule because etcd's checks make each step wait
 * until every peer has been connected for 5 s, which a short run cannot spare.
 */
export const OPT_IN_FAULT_KINDS: readonly FaultKind[] = ['replace-member'];

/** Who a fault hits, resolved at start time; `pick` chooses among the candidates (modulo their count). */
export type Target = { role: 'leader' } | { role: 'follower'; pick: number } | { role: 'any'; pick: number } | { role: 'all' };

export interface Fault {
  id: number;
  kind: FaultKind;
  /** Offsets from the start of the run, ms. */
  start: number;
  stop: number;
  target: Target;
  /** isolate-leader / partition: sever connections ('cut') or swallow bytes silently ('blackhole'). */
  link?: 'cut' | 'blackhole';
  /** partition: members on the minority side, and which side the leader is put on. */
  minoritySize?: number;
  leaderIn?: 'minority' | 'majority';
  /** latency: extra delay per chunk on every link of the target (or of everyone). */
  latencyMs?: number;
}

export interface FaultEvent {
  at: number;
  type: 'start' | 'stop';
  fault: Fault;
}

export interface ScheduleOptions {
  /** Quiet time before the first fault and after the last one heals (recovery window). */
  quietStartMs?: number;
  quietEndMs?: number;
  faultMs?: [number, number];
  gapMs?: [number, number];
  /** Opt-in kinds to add to the default ones (OPT_IN_FAULT_KINDS). */
  extraKinds?: readonly FaultKind[];
}

/** Faults that make sense for a cluster of n members. */
export function faultKindsFor(n: number, extra: readonly FaultKind[] = []): FaultKind[] {
  return [...ALL_FAULT_KINDS, ...extra].filter((k) => {
    if (k === 'kill-follower' || k === 'isolate-leader' || k === 'latency') return n >= 2;
    if (k === 'partition' || k === 'replace-member') return n >= 3;
    return true;
  });
}

/**
 * One fault at a time, separated by quiet gaps: every applicable kind appears once
 * (in seeded order) before kinds repeat at random. Durations shrink proportionally
 * when the run is too short to hold every kind at the default lengths. Every fault
 * stops before `durationMs - quietEndMs`, so the cluster ends healed.
 */
export function makeSchedule(seed: number, durationMs: number, members: readonly string[], opts: ScheduleOptions = {}): FaultEvent[] {
  const rng = mulberry32(seed);
  const kinds = faultKindsFor(members.length, opts.extraKinds);
  const quietStart = opts.quietStartMs ?? 1000;
  const end = durationMs - (opts.quietEndMs ?? 2000);
  let [minF, maxF] = opts.faultMs ?? [1000, 4000];
  let [minG, maxG] = opts.gapMs ?? [500, 2000];
  const budget = end - quietStart;
  if (budget <= 0) throw new Error(`run of ${durationMs} ms leaves no time for faults`);
  const needed = kinds.length * (minF + minG);
  if (needed > budget) {
    const s = budget / needed;
    [minF, maxF, minG, maxG] = [minF * s, maxF * s, minG * s, maxG * s];
  }

  const faults: Fault[] = [];
  let t = quietStart;
  const mandatory = shuffle(rng, kinds);
  for (let r = mandatory.length; r > 0; r--) {
    // Spend at most this fault's share of the slack, so the remaining kinds still fit.
    const slack = Math.max(0, (end - t - r * (minF + minG)) / r);
    const len = minF + rng() * Math.min(maxF - minF, slack / 2);
    const gap = minG + rng() * Math.min(maxG - minG, slack / 2);
    faults.push(makeFault(rng, faults.length, mandatory[mandatory.length - r]!, t, t + len, members.length));
    t += len + gap;
  }
  while (t + minF <= end) {
    const len = Math.min(minF + rng() * (maxF - minF), end - t);
    const kind = kinds[Math.floor(rng() * kinds.length)]!;
    faults.push(makeFault(rng, faults.length, kind, t, t + len, members.length));
    t += len + minG + rng() * (maxG - minG);
  }

  const events: FaultEvent[] = [];
  for (const f of faults) events.push({ at: f.start, type: 'start', fault: f }, { at: f.stop, type: 'stop', fault: f });
  return events.sort((a, b) => a.at - b.at || (a.type === b.type ? 0 : a.type === 'stop' ? -1 : 1));
}

function makeFault(rng: Rng, id: number, kind: FaultKind, start: number, stop: number, n: number): Fault {
  const f: Fault = { id, kind, start: Math.round(start), stop: Math.round(stop), target: { role: 'all' } };
  const pickAny = (): Target => ({ role: 'any', pick: randInt(rng, 0, 1 << 20) });
  switch (kind) {
    case 'kill-leader':
    case 'isolate-leader':
      f.target = { role: 'leader' };
      if (kind === 'isolate-leader') f.link = rng() < 0.5 ? 'cut' : 'blackhole';
      break;
    case 'kill-follower':
      f.target = { role: 'follower', pick: randInt(rng, 0, 1 << 20) };
      break;
    case 'pause':
      // Mostly the leader: a stopped leader that wakes up believing it still leads is
      // where stale reads come from.
      f.target = rng() < 0.6 ? { role: 'leader' } : pickAny();
      break;
    case 'partition':
      f.minoritySize = randInt(rng, 1, Math.floor((n - 1) / 2));
      f.leaderIn = rng() < 0.5 ? 'minority' : 'majority';
      f.link = rng() < 0.5 ? 'cut' : 'blackhole';
      f.target = pickAny();
      break;
    case 'latency':
      f.latencyMs = randInt(rng, 20, 200);
      f.target = rng() < 0.5 ? { role: 'all' } : pickAny();
      break;
    case 'kill-all':
      break;
    case 'replace-member':
      f.target = pickAny();
      break;
  }
  return f;
}

/** What the nemesis needs from the peer-link proxies (ProxyMesh implements it). */
export interface MeshControl {
  isolate(member: string, mode?: LinkMode): void;
  partition(groups: ReadonlyArray<readonly string[]>, mode?: LinkMode): void;
  setLink(a: string, b: string, mode: LinkMode): void;
  heal(): void;
}

/** Implemented by the harness over real member processes. */
export interface ClusterControl {
  members(): readonly string[];
  /** The current leader as the members report it, or null during an election. */
  leaderOf(): Promise<string | null>;
  /** SIGKILL, no chance to flush. */
  killMember(name: string): Promise<void>;
  /** Start again from the same data dir; resolves once the process is up. */
  restartMember(name: string): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** Removes the member through the Cluster API (it then exits) and wipes its data dir. */
  removeMember(name: string): Promise<void>;
  /** Adds a removed member back (a new id, same URLs) and starts it with --initial-cluster-state existing. */
  addBackMember(name: string): Promise<void>;
  mesh: MeshControl;
}

/** A fault as it actually happened: real times (run clock) and resolved members. */
export interface InjectedFault {
  fault: Fault;
  kind: FaultKind;
  start: number;
  stop: number;
  members: string[];
  /** For partitions, the minority side. */
  minority?: string[];
  note?: string;
}

/** The note on a leader fault that found no leader (the report leaves such kills out of the recovery figure). */
export const NO_LEADER_NOTE = 'no leader known; hit the first member';

/** Resolves the target against the current leader. */
async function resolve(fault: Fault, control: ClusterControl): Promise<{ members: string[]; note?: string }> {
  const all = [...control.members()];
  const leader = await control.leaderOf();
  const choose = (from: string[], pick: number) => from[pick % from.length]!;
  switch (fault.target.role) {
    case 'all':
      return { members: all };
    case 'any':
      return { members: [choose(all, fault.target.pick)] };
    case 'leader':
      if (leader === null) return { members: [all[0]!], note: NO_LEADER_NOTE };
      return { members: [leader] };
    case 'follower': {
      const followers = all.filter((m) => m !== leader);
      return { members: [choose(followers.length > 0 ? followers : all, fault.target.pick)] };
    }
  }
}

const linkMode = (f: Fault): LinkMode => ({ mode: f.link ?? 'cut' }) as LinkMode;

/** Starts a fault; returns what must be undone. `now` is the run clock (e.g. History.now). */
export async function startFault(fault: Fault, control: ClusterControl, now: () => number): Promise<InjectedFault> {
  const { members, note } = await resolve(fault, control);
  const injected: InjectedFault = { fault, kind: fault.kind, start: now(), stop: NaN, members };
  if (note !== undefined) injected.note = note;
  const target = members[0]!;
  switch (fault.kind) {
    case 'kill-leader':
    case 'kill-follower':
    case 'kill-all':
      for (const m of members) await control.killMember(m);
      break;
    case 'pause':
      await control.pause(target);
      break;
    case 'isolate-leader':
      control.mesh.isolate(target, linkMode(fault));
      break;
    case 'partition': {
      // The picked member decides where the leader goes: it joins the leader on the minority side, or becomes it.
      const all = [...control.members()];
      const leader = (await control.leaderOf()) ?? target;
      const others = all.filter((m) => m !== leader);
      const size = fault.minoritySize ?? 1;
      const start = all.indexOf(target) % Math.max(1, others.length);
      const rotated = [...others.slice(start), ...others.slice(0, start)];
      const minority = fault.leaderIn === 'minority' ? [leader, ...rotated.slice(0, size - 1)] : rotated.slice(0, size);
      injected.minority = minority;
      injected.members = minority;
      control.mesh.partition([minority, all.filter((m) => !minority.includes(m))], linkMode(fault));
      break;
    }
    case 'replace-member':
      await control.removeMember(target);
      break;
    case 'latency': {
      const all = [...control.members()];
      const ms = fault.latencyMs ?? 100;
      for (const a of all) {
        for (const b of all) {
          if (a < b && (fault.target.role === 'all' || a === target || b === target)) control.mesh.setLink(a, b, { mode: 'delay', ms });
        }
      }
      break;
    }
  }
  return injected;
}

export async function stopFault(injected: InjectedFault, control: ClusterControl, now: () => number): Promise<void> {
  switch (injected.kind) {
    case 'kill-leader':
    case 'kill-follower':
    case 'kill-all':
      await Promise.all(injected.members.map((m) => control.restartMember(m)));
      break;
    case 'pause':
      await control.resume(injected.members[0]!);
      break;
    case 'replace-member':
      await control.addBackMember(injected.members[0]!);
      break;
    case 'isolate-leader':
    case 'partition':
    case 'latency':
      control.mesh.heal();
      break;
  }
  injected.stop = now();
}

/**
 * Plays a schedule: waits for each event's offset (from the moment it is called),
 * starts or stops the fault, and returns what was injected. `sleep` is injectable so
 * tests can run a schedule without waiting.
 */
export async function runSchedule(
  events: readonly FaultEvent[],
  control: ClusterControl,
  clock: { now: () => number; sleep: (ms: number) => Promise<void> },
): Promise<InjectedFault[]> {
  const origin = clock.now();
  const active = new Map<number, InjectedFault>();
  const done: InjectedFault[] = [];
  try {
    for (const ev of events) {
      const wait = origin + ev.at - clock.now();
      if (wait > 0) await clock.sleep(wait);
      if (ev.type === 'start') {
        active.set(ev.fault.id, await startFault(ev.fault, control, clock.now));
      } else {
        const inj = active.get(ev.fault.id);
        if (inj === undefined) continue;
        active.delete(ev.fault.id);
        await stopFault(inj, control, clock.now);
        done.push(inj);
      }
    }
  } finally {
    // Whatever happened, leave the cluster healed and every process running.
    for (const inj of active.values()) {
      await stopFault(inj, control, clock.now);
      done.push(inj);
    }
  }
  return done;
}
