// The short chaos run inside `npm test`: a real 3-member cluster from the compiled
// bin, every peer link behind a proxy, a minute of client traffic while a seeded
// nemesis injects at least one fault of every kind, with etcd's default timings
// (100 ms heartbeat, 1000 ms election) — the ones users run. It must end with a
// linearizable history ('undecided' counts as a failure: the load is kept small
// enough that the checker always decides), no lost acknowledged write, and every
// member at the same revision and HashKV. The leader-kill recovery time is printed,
// not asserted: it is a figure to report, and a loaded CI machine would make a
// threshold flaky.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_FAULT_KINDS } from './nemesis';
import { runChaos } from './run';

const SEED = Number(process.env['CHAOS_SEED'] ?? 20261122);

describe('chaos: short run against a real cluster', () => {
  it('stays linearizable, loses no acknowledged write and converges under every fault kind', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-ts-chaos-short-'));
    const lines: string[] = [];
    const result = await runChaos({
      durationMs: 60_000,
      seed: SEED,
      members: 3,
      outDir,
      keys: 5,
      log: (l) => lines.push(l),
    });
    const summary = `${result.text}\n(results and member logs in ${outDir})`;
    console.log(summary);

    for (const kind of ALL_FAULT_KINDS) expect(result.report.faults.byKind[kind] ?? 0, `fault ${kind} injected\n${summary}`).toBeGreaterThan(0);
    expect(result.report.verdict, summary).toBe('ok');
    expect(result.lostWrites, summary).toEqual([]);
    expect(result.convergence.converged, summary).toBe(true);
    // Watchers on every member saw, key by key, exactly the committed revisions.
    expect(result.watch.problems, summary).toEqual([]);
    expect(result.watch.eventsChecked, summary).toBeGreaterThan(0);
    expect(result.finalWriteOk, summary).toBe(true);
    expect(result.unexpectedExits.filter((e) => e.signal === null && e.code !== 0), summary).toEqual([]);
    expect(result.passed, summary).toBe(true);
    // Keep the results of a failing run for inspection; of a passing one, only the report.
    fs.rmSync(path.join(outDir, 'cluster'), { recursive: true, force: true });
    fs.rmSync(path.join(outDir, 'history.jsonl.gz'), { force: true });
  }, 180_000);
});
