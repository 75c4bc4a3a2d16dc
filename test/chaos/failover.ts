// `npm run chaos:failover -- --kills 40 [--members 3|5]`: kills the leader of a
// real cluster again and again (etcd's default timings unless --heartbeat and
// --election are given) and prints how long writes were refused each time: from
// the SIGKILL until a put to some surviving member succeeds. Puts go to every
// survivor every 20 ms, so the figure is the cluster's failover, not a client's
// retry policy. Prints median, p90 and max of the samples.

import { parseArgs } from 'node:util';
import type { Etcd3 } from 'etcd3';
import { ChaosCluster } from './harness';
import { makeClient } from './workload';
import { nearestRank } from '../../bench/nearest-rank';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Time from `t0` until a put succeeds on one of `clients`, or null after `limitMs`. */
async function firstWrite(clients: Etcd3[], t0: number, limitMs: number): Promise<number | null> {
  let done: number | null = null;
  const inflight = new Set<Promise<void>>();
  for (let i = 0; done === null && Date.now() - t0 < limitMs && i < limitMs / 20; i++) {
    for (const c of clients) {
      const p: Promise<void> = c
        .put('failover')
        .value(String(i))
        .exec()
        .then(
          () => void (done ??= Date.now() - t0),
          () => undefined,
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await sleep(20);
  }
  await Promise.all(inflight);
  return done;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '30' },
      members: { type: 'string', default: '3' },
      heartbeat: { type: 'string', default: '100' },
      election: { type: 'string', default: '1000' },
    },
  });
  const kills = Number(values.kills);
  const cluster = await ChaosCluster.start({
    members: Number(values.members),
    heartbeatMs: Number(values.heartbeat),
    electionMs: Number(values.election),
    log: () => undefined,
  });
  const clients = new Map(cluster.members().map((name, i) => [name, makeClient([cluster.endpoints[i]!], 1000)]));
  const samples: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      const leader = await cluster.waitForLeader(20_000);
      if (leader === null) throw new Error('no leader within 20 s');
      // Let the cluster settle (a restarted member catches up) so each kill starts alike.
      if ((await firstWrite([...clients.values()], Date.now(), 10_000)) === null) throw new Error('no write within 10 s');
      await sleep(500 + Math.random() * 500);
      const t0 = Date.now();
      await cluster.killMember(leader);
      const survivors = [...clients].filter(([name]) => name !== leader).map(([, c]) => c);
      const ms = await firstWrite(survivors, t0, 15_000);
      console.log(`kill ${k + 1}/${kills}: leader ${leader}, writes again after ${ms === null ? 'never (15 s)' : `${ms} ms`}`);
      samples.push(ms ?? 15_000);
      await cluster.restartMember(leader);
    }
  } finally {
    for (const c of clients.values()) c.close();
    await cluster.stop();
  }
  const s = [...samples].sort((a, b) => a - b);
  console.log(`leader kills: ${s.length}; writes again after: median ${nearestRank(s, 0.5)} ms, p90 ${nearestRank(s, 0.9)} ms, max ${s[s.length - 1]} ms`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`failover: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
