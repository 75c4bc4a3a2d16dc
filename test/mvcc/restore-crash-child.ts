// Child for the restore crash test: opens the store in <dir>, reads a Raft
// snapshot image of another store from <image>, prints "restoring", and
// restores it while printing "tick" whenever its event loop gets a turn (every
// millisecond at most), then "done". The parent SIGKILLs it at a chosen line.
import { readFileSync } from 'node:fs';
import { Level } from 'level';
import { MvccStore } from '../../src/mvcc';

const BUFFERS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

async function main(): Promise<void> {
  const [dir, image] = process.argv.slice(2);
  const db = new Level<Buffer, Buffer>(dir!, BUFFERS);
  await db.open();
  const store = await MvccStore.open(db.sublevel<Buffer, Buffer>('mvcc', BUFFERS));
  const bytes = readFileSync(image!);
  process.stdout.write('restoring\n');
  const ticker = setInterval(() => process.stdout.write('tick\n'), 1);
  await store.restore([bytes]);
  clearInterval(ticker);
  process.stdout.write('done\n');
  // Bounded: the parent kills us at once, or its guard does.
  setTimeout(() => undefined, 60_000);
}

main().catch((e: unknown) => {
  process.stderr.write(String((e as Error)?.stack ?? e));
  process.exit(1);
});
