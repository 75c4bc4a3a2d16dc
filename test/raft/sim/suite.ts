// Seeded simulation of 3- and 5-member clusters under faults (see sim/schedule.ts).
// RAFT_SIM_SCHEDULES=N runs N schedules; RAFT_SIM_SEED=S replays exactly one.

import { describe, expect, it } from 'vitest';
import { runSchedule } from './schedule';

const replay = process.env.RAFT_SIM_SEED;
const total = Number(process.env.RAFT_SIM_SCHEDULES ?? 3000);

/**
 * Two test files (sim-a, sim-b) each run half of the schedules so both workers of a
 * 2-core machine share the load; a replay runs only in part 0.
 */
export function simSuite(part: 0 | 1): void {
  const count = part === 0 ? Math.ceil(total / 2) : Math.floor(total / 2);
  const firstSeed = part === 0 ? 1 : 1 + Math.ceil(total / 2);
  describe(`raft simulation part ${part}`, () => {
    if (replay && part === 1) return;
    if (part === 0 && !replay) {
      it('a seed replays exactly', () => {
        for (const seed of [3, 17, 101]) expect(runSchedule(seed)).toEqual(runSchedule(seed));
      });
    }
    it(replay ? `replays seed ${replay}` : `${count} schedules hold every invariant`, () => {
      const seeds = replay ? [Number(replay)] : Array.from({ length: count }, (_, i) => firstSeed + i);
      let committed = 0;
      let reads = 0;
      let notices = 0;
      for (const seed of seeds) {
        try {
          const r = runSchedule(seed);
          committed += r.committed;
          reads += r.reads;
          notices += r.notices;
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          throw new Error(`sim seed ${seed} failed: ${msg}\nreplay: RAFT_SIM_SEED=${seed} npx vitest run test/raft/sim-a`, { cause: e });
        }
      }
      // The run as a whole must exercise the paths it checks (one schedule may commit nothing).
      if (!replay) {
        expect(committed).toBeGreaterThan(0);
        expect(reads).toBeGreaterThan(0);
        expect(notices).toBeGreaterThan(0);
      }
    });
  });
}
