// The comparison freezes the cluster not under load (bench/cluster.ts pause /
// resume): on a real 3-member etcd-ts cluster, every member must stop using the
// CPU while frozen, the cluster must answer with the same leader once thawed
// (all members frozen together see no election timeout pass), and stopping a
// frozen cluster must still shut its members down with SIGTERM, not SIGKILL.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../bench/cluster';
import { freePortLayout } from '../support/ports';
import { REPO } from '../support/process';

/** The state letter of /proc/<pid>/stat: 'T' for stopped by a signal. */
function procState(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('bench Cluster pause/resume', () => {
  it('freezes every member, thaws them under the same leader, and stops a frozen cluster cleanly', async () => {
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pause-'));
    const portBase = await freePortLayout([0, 1, 2, 10, 11, 12]);
    const cluster = new Cluster({ system: 'etcd-ts', size: 3, portBase, dataRoot, repoRoot: REPO });
    try {
      cluster.start();
      const leader = await cluster.waitHealthy(30_000);

      cluster.pause();
      await until(() => cluster.pids.every((p) => procState(p) === 'T'), 'every member to stop');
      const cpu = cluster.cpuSeconds();
      // Longer than the election timeout (1 s): a member that still ran would tick.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(cluster.cpuSeconds()).toBe(cpu);

      cluster.resume();
      await until(() => cluster.pids.every((p) => procState(p) !== 'T'), 'every member to run again');
      expect(await cluster.waitHealthy(10_000)).toBe(leader);

      // Frozen again, then stopped: each member must get to handle its SIGTERM.
      cluster.pause();
      await until(() => cluster.pids.every((p) => procState(p) === 'T'), 'every member to stop again');
      await cluster.stop(true);
      for (const m of cluster.members) {
        expect(fs.readFileSync(m.logFile, 'utf8')).toContain('received signal; shutting down');
      }
    } finally {
      await cluster.stop();
      fs.rmSync(dataRoot, { recursive: true, force: true });
    }
  }, 60_000);
});
