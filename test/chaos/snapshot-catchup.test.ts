// A follower that was down while the others wrote past its end of the log — more
// than SNAPSHOT_CATCH_UP_ENTRIES beyond a snapshot, so the leader has compacted the
// entries it would need — must catch up by snapshot, then restart from its own disk
// and survive a kill of the whole cluster, ending with the same revision and HashKV
// as the others. The nemesis's faults are too short to push a member that far
// behind, so this path gets its own test (etcd's robustness suite does the same
// with BlackholeUntilSnapshot).

import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_CATCH_UP_ENTRIES } from '../../src/server/raft-driver';
import { ChaosCluster } from './harness';
import { checkConvergence } from './run';
import { makeClient } from './workload';

describe('chaos: snapshot catch-up of a lagging follower', () => {
  let cluster: ChaosCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
    if (cluster) fs.rmSync(cluster.dir, { recursive: true, force: true });
  });

  it('installs the snapshot, restarts from it, and converges', async () => {
    cluster = await ChaosCluster.start({ members: 3, extraArgs: ['--snapshot-count', '500'] });
    const c = cluster;
    const leader = await c.waitForLeader(20_000);
    expect(leader).not.toBeNull();
    const names = c.members();
    const victim = names.find((m) => m !== leader)!;
    const others = c.endpoints.filter((_, i) => names[i] !== victim);

    await c.killMember(victim);
    const etcd = makeClient(others, 5000);
    try {
      // 50 writers x 120 puts: past the catch-up window, so the log the victim needs is gone.
      const total = 50 * 120;
      expect(total).toBeGreaterThan(SNAPSHOT_CATCH_UP_ENTRIES);
      await Promise.all(
        Array.from({ length: 50 }, async (_, w) => {
          for (let i = 0; i < 120; i++) await etcd.put(`s/${w}/${i % 10}`).value(`v${i}`).exec();
        }),
      );
      await c.restartMember(victim);
      const first = await checkConvergence(c, 60_000);
      expect(first.converged, JSON.stringify(first)).toBe(true);
      expect(c.tail(victim, 200_000)).toContain('installed snapshot from leader');

      // Restart the member that was built from a snapshot, with more writes meanwhile.
      await c.killMember(victim);
      for (let i = 0; i < 50; i++) await etcd.put(`t/${i}`).value('x').exec();
      await c.restartMember(victim);
      const second = await checkConvergence(c, 60_000);
      expect(second.converged, JSON.stringify(second)).toBe(true);
    } finally {
      etcd.close();
    }

    // Every member from its own disk at once.
    for (const m of names) await c.killMember(m);
    for (const m of names) await c.restartMember(m);
    expect(await c.waitForLeader(30_000)).not.toBeNull();
    const all = makeClient(c.endpoints, 5000);
    const own = makeClient([c.endpoints[names.indexOf(victim)]!], 5000);
    try {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          await all.put('u').value('y').exec();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const last = await checkConvergence(c, 60_000);
      expect(last.converged, JSON.stringify(last)).toBe(true);
      // Linearizable reads through the victim see the writes from before and after its snapshot.
      expect(await own.get('s/49/9').string()).toBe('v119');
      expect(await own.get('t/49').string()).toBe('x');
      expect(await own.get('u').string()).toBe('y');
    } finally {
      all.close();
      own.close();
    }
  }, 120_000);
});
