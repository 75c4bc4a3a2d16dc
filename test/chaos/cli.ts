// `npm run chaos -- --duration 1800 --seed 7 --members 5 --out dir [--replace]`: one chaos run
// against a real cluster, progress every few seconds, report at the end. Exits 1
// on a violation, an undecided check, a lost write or a cluster that did not
// converge; 2 on bad flags or a harness error; 130 on Ctrl-C.

import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from './run';
import { OPT_IN_FAULT_KINDS } from './nemesis';

const USAGE = 'usage: npm run chaos -- [--duration seconds=60] [--seed n=random] [--members 3|5] [--out dir] [--snapshot-count n] [--serializable-reads] [--replace]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        duration: { type: 'string', default: '60' },
        seed: { type: 'string' },
        members: { type: 'string', default: '3' },
        out: { type: 'string' },
        'snapshot-count': { type: 'string' },
        'serializable-reads': { type: 'boolean', default: false },
        // Also remove members through the Cluster API and add them back from empty data dirs.
        replace: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const duration = Number(values.duration);
  const members = Number(values.members);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!(duration >= 20) || duration > 86_400 || ![3, 5].includes(members) || !Number.isInteger(seed)) {
    console.error(`bad flags (duration ≥ 20 s, members 3 or 5, integer seed)\n${USAGE}`);
    return 2;
  }
  const outDir = path.resolve(values.out ?? path.join(os.tmpdir(), `etcd-ts-chaos-${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}`));
  // A small snapshot count makes lagging members catch up by snapshot, as Jepsen's etcd tests do.
  const extraArgs = values['snapshot-count'] === undefined ? [] : ['--snapshot-count', values['snapshot-count']];
  const result = await runChaos({
    durationMs: duration * 1000,
    seed,
    members,
    outDir,
    extraArgs,
    serializableReads: values['serializable-reads'],
    progressEveryMs: duration > 300 ? 10_000 : 5000,
    ...(values.replace ? { schedule: { extraKinds: OPT_IN_FAULT_KINDS } } : {}),
  });
  return result.passed ? 0 : 1;
}

// Ctrl-C: leave nothing running. The harness's exit hook SIGCONTs and SIGKILLs the members.
process.once('SIGINT', () => {
  console.error('chaos: interrupted; killing the cluster');
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
