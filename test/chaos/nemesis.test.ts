import { describe, expect, it } from 'vitest';
import { ALL_FAULT_KINDS, type ClusterControl, type FaultEvent, faultKindsFor, makeSchedule, runSchedule } from './nemesis';
import type { LinkMode } from './proxy';

const five = ['m1', 'm2', 'm3', 'm4', 'm5'];

function checkHealedAndSequential(events: FaultEvent[], durationMs: number, quietEndMs = 2000): void {
  const starts = events.filter((e) => e.type === 'start');
  const stops = events.filter((e) => e.type === 'stop');
  expect(stops.map((e) => e.fault.id).sort()).toEqual(starts.map((e) => e.fault.id).sort());
  for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
  // One fault at a time: events alternate start/stop of the same fault.
  for (let i = 0; i < events.length; i += 2) {
    expect(events[i]!.type).toBe('start');
    expect(events[i + 1]!.type).toBe('stop');
    expect(events[i + 1]!.fault.id).toBe(events[i]!.fault.id);
    expect(events[i + 1]!.at).toBeGreaterThan(events[i]!.at);
  }
  expect(events[events.length - 1]!.at).toBeLessThanOrEqual(durationMs - quietEndMs);
}

describe('makeSchedule', () => {
  it('is a pure function of its seed', () => {
    expect(makeSchedule(42, 30_000, five)).toEqual(makeSchedule(42, 30_000, five));
    expect(makeSchedule(42, 30_000, five)).not.toEqual(makeSchedule(43, 30_000, five));
  });

  it('includes every fault kind, even in a short run, and ends healed', () => {
    for (let seed = 1; seed <= 100; seed++) {
      for (const duration of [6_000, 20_000, 60_000]) {
        const events = makeSchedule(seed, duration, five);
        const kinds = new Set(events.map((e) => e.fault.kind));
        expect([...kinds].sort(), `seed ${seed} duration ${duration}`).toEqual([...ALL_FAULT_KINDS].sort());
        checkHealedAndSequential(events, duration);
      }
    }
  });

  it('only schedules faults that fit the cluster size', () => {
    expect(faultKindsFor(1)).toEqual(['kill-leader', 'pause', 'kill-all']);
    expect(faultKindsFor(3)).toEqual([...ALL_FAULT_KINDS]);
    const three = makeSchedule(7, 10_000, ['a', 'b', 'c']);
    for (const e of three) if (e.fault.kind === 'partition') expect(e.fault.minoritySize).toBe(1);
    const parts = makeSchedule(7, 120_000, five).filter((e) => e.fault.kind === 'partition');
    for (const e of parts) expect([1, 2]).toContain(e.fault.minoritySize);
  });

  it('refuses a run with no room for faults', () => {
    expect(() => makeSchedule(1, 2500, five)).toThrow();
  });
});

/** An in-memory cluster that remembers what was done to it. */
class FakeCluster implements ClusterControl {
  leader: string | null = 'm3';
  readonly killed = new Set<string>();
  readonly paused = new Set<string>();
  readonly log: string[] = [];
  links = new Map<string, string>();
  constructor(private readonly names: string[]) {}
  members() {
    return this.names;
  }
  async leaderOf() {
    return this.leader !== null && !this.killed.has(this.leader) ? this.leader : null;
  }
  async killMember(n: string) {
    this.killed.add(n);
    this.log.push(`kill ${n}`);
  }
  async restartMember(n: string) {
    this.killed.delete(n);
    this.log.push(`restart ${n}`);
  }
  async pause(n: string) {
    this.paused.add(n);
    this.log.push(`pause ${n}`);
  }
  async resume(n: string) {
    this.paused.delete(n);
    this.log.push(`resume ${n}`);
  }
  async removeMember(n: string) {
    this.killed.add(n);
    this.log.push(`remove ${n}`);
  }
  async addBackMember(n: string) {
    this.killed.delete(n);
    this.log.push(`add back ${n}`);
  }
  mesh = {
    isolate: (m: string, mode?: LinkMode) => void this.log.push(`isolate ${m} ${mode?.mode}`),
    partition: (groups: ReadonlyArray<readonly string[]>) => void this.log.push(`partition ${groups.map((g) => g.join('+')).join(' | ')}`),
    setLink: (a: string, b: string, mode: LinkMode) => void this.links.set(`${a}-${b}`, mode.mode),
    heal: () => {
      this.links.clear();
      this.log.push('heal');
    },
  };
}

describe('runSchedule', () => {
  it('plays every fault against the resolved members and leaves the cluster whole', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const cluster = new FakeCluster(five);
      let t = 0;
      const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) };
      const events = makeSchedule(seed, 30_000, five);
      const injected = await runSchedule(events, cluster, clock);
      expect(injected).toHaveLength(events.length / 2);
      expect(cluster.killed.size).toBe(0);
      expect(cluster.paused.size).toBe(0);
      expect(cluster.links.size).toBe(0);
      for (const inj of injected) {
        expect(inj.stop).toBeGreaterThan(inj.start);
        if (inj.kind === 'kill-leader' || inj.kind === 'isolate-leader') expect(inj.members).toEqual(['m3']);
        if (inj.kind === 'kill-follower') expect(inj.members[0]).not.toBe('m3');
        if (inj.kind === 'kill-all') expect(inj.members).toEqual(five);
        if (inj.kind === 'partition') {
          expect(inj.minority).toHaveLength(inj.fault.minoritySize!);
          expect(inj.minority!.includes('m3')).toBe(inj.fault.leaderIn === 'minority');
        }
      }
    }
  });

  it('heals faults still active when the run is aborted', async () => {
    const cluster = new FakeCluster(five);
    let t = 0;
    let sleeps = 0;
    const clock = {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
        if (++sleeps === 2) throw new Error('aborted');
      },
    };
    const events = makeSchedule(3, 30_000, five);
    await expect(runSchedule(events, cluster, clock)).rejects.toThrow('aborted');
    expect(cluster.killed.size + cluster.paused.size + cluster.links.size).toBe(0);
    expect(cluster.log.length).toBeGreaterThanOrEqual(2);
  });
});
