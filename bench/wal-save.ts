// Prints WAL saves/s and entries/s with sync at several batch sizes, serial
// (one save at a time, like a follower persisting one Ready after another)
// and pipelined (several saves in flight, which group commit merges).
// Run: tsc --ignoreConfig --outDir /tmp/walbench --rootDir . --module node16 --moduleResolution node16
//   --target ES2022 --types node --skipLibCheck --esModuleInterop bench/wal-save.ts
//   NODE_PATH=$PWD/node_modules node /tmp/walbench/bench/wal-save.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { Wal } from '../src/wal';
import { EntryType, type Entry } from '../src/raft/types';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wal-bench-'));
  const db = new Level<Buffer, Buffer>(join(dir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const wal = await Wal.bootstrap(db.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' }), {
    memberId: 'a', clusterId: 'c', version: 'bench',
  });
  const payload = Buffer.alloc(256, 1);
  let next = 1;
  const batch = (n: number): Entry[] =>
    Array.from({ length: n }, () => ({ index: next++, term: 1, type: EntryType.Normal, data: payload }));
  for (const size of [1, 100, 1000]) {
    for (const inFlight of [1, 8]) {
      const saves = size === 1 ? 4000 : size === 100 ? 400 : 60;
      const t0 = performance.now();
      let issued = 0;
      const workers = Array.from({ length: inFlight }, async () => {
        while (issued < saves) {
          issued++;
          await wal.save({ entries: batch(size), hardState: { term: 1, vote: 'a', commit: next - 1 }, mustSync: true });
        }
      });
      const b0 = wal.stats.batches;
      await Promise.all(workers);
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `batch=${size} inFlight=${inFlight}: ${(saves / secs).toFixed(0)} saves/s, ${((saves * size) / secs).toFixed(0)} entries/s, ${wal.stats.batches - b0} fsynced batches`,
      );
    }
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

void main();
