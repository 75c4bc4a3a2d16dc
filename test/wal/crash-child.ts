// Child process for the crash test: appends batches to the WAL with sync,
// several saves in flight at once, and prints the last index of every save
// as soon as it resolves. The parent SIGKILLs it at a random moment.
import { Level } from 'level';
import { join } from 'node:path';
import { Wal } from '../../src/wal';
import { EntryType, type Entry } from '../../src/raft/types';

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  let seed = Number(process.argv[3] ?? '1');
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const db = new Level<Buffer, Buffer>(join(dir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const sub = db.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const meta = { memberId: 'a1', clusterId: 'c1', version: 'test' };
  const wal = (await Wal.exists(sub)) ? await Wal.open(sub, meta) : await Wal.bootstrap(sub, meta);
  const state = await wal.load();
  let next = (state.entries.at(-1)?.index ?? 0) + 1;
  let term = state.hardState.term + 1;
  let inFlight = 0;
  // Bounded: the parent kills us long before this many saves.
  for (let n = 0; n < 100_000; n++) {
    while (inFlight >= 4) await new Promise((r) => setImmediate(r));
    const count = 1 + rand(64);
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++, next++) {
      entries.push({ index: next, term, type: EntryType.Normal, data: Buffer.from(`${term}:${next}`) });
    }
    if (rand(10) === 0) term++;
    const last = next - 1;
    inFlight++;
    wal.save({ entries, hardState: { term, vote: 'a1', commit: last }, mustSync: true }).then(
      () => {
        inFlight--;
        process.stdout.write(`${last}\n`);
      },
      (err: unknown) => {
        process.stderr.write(String(err) + '\n');
        process.exit(2);
      },
    );
  }
}

void main();
