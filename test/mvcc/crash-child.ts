// Crash-test child: applies the deterministic workload in Raft-Ready-like
// batches (apply each entry, then one commit per batch) until it is killed.
// argv: <data dir> <seed>

import { Level } from 'level';
import { MvccStore } from '../../src/mvcc';
import { opFor, rng } from './crash-workload';

async function main(): Promise<void> {
  const [dir, seedArg] = process.argv.slice(2);
  const seed = Number(seedArg);
  const db = new Level<Buffer, Buffer>(dir!, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const store = await MvccStore.open(db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' }));
  let index = store.consistentIndex();
  const r = rng(seed + index);
  process.stdout.write(`start ${index}\n`);
  for (;;) {
    const n = 1 + Math.floor(r() * 50);
    for (let i = 0; i < n; i++) {
      index++;
      try {
        store.applyWrite(opFor(seed, index, store.rev), index);
      } catch {
        // an EtcdError: the entry still counts as applied
      }
    }
    await store.commit();
  }
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(1);
});
