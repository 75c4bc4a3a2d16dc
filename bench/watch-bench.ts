// Watch figures on 3-member clusters, etcd-ts and Debian's real etcd side by
// side: 1,000 watchers on one prefix (spread over streams and members) while
// 100 concurrent clients put keys under it. Prints the events per second
// delivered to all watchers and the lag from a put's acknowledgement to each
// watcher's receipt of its event (p50, p99; negative = the event arrived
// before the writer's ack). Benchmarks print figures; they assert nothing.
// Run: npm run bench:watch [-- --watchers 1000 --writers 100 --puts 20]
//      (add --endpoints host:port,... to measure a cluster that is already running)
import { execFileSync } from 'node:child_process';
import { startEtsCluster, startRealEtcd } from '../test/support/cluster';
import { runWatchLoad, type WatchResult } from './watch-load';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const OPTS = { watchers: arg('watchers', 1000), writers: arg('writers', 100), putsPerWriter: arg('puts', 20) };

function row(r: WatchResult): Record<string, string | number> {
  return {
    watchers: r.watchers,
    writers: r.writers,
    puts: r.puts,
    'puts/s': r.putsPerSec,
    delivered: `${r.delivered}/${r.expected}`,
    'events/s delivered': r.eventsPerSec,
    'events/response': (r.delivered / Math.max(1, r.eventResponses)).toFixed(1),
    'lag p50 ms': r.lagP50Ms.toFixed(1),
    'lag p99 ms': r.lagP99Ms.toFixed(1),
  };
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, string | number>> = {};
  const given = process.argv.indexOf('--endpoints');
  if (given >= 0) {
    const endpoints = process.argv[given + 1]!.split(',');
    results['given cluster'] = row(await runWatchLoad(endpoints, OPTS));
    console.table(results);
    return;
  }
  const ets = await startEtsCluster(3);
  try {
    results['etcd-ts'] = row(await runWatchLoad(ets.endpoints, OPTS));
  } finally {
    await ets.stop();
  }
  let etcdBin: string | undefined;
  try {
    etcdBin = execFileSync('which', ['etcd'], { encoding: 'utf8' }).trim();
  } catch {
    console.error('etcd not installed: only etcd-ts measured (apt-get install etcd-server)');
  }
  if (etcdBin) {
    const real = await startRealEtcd(etcdBin, 3);
    try {
      results['etcd 3.4'] = row(await runWatchLoad(real.endpoints, OPTS));
    } finally {
      await real.stop();
    }
  }
  console.table(results);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
