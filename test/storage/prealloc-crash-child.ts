// Child process for the preallocation crash test: synced writes through the
// member's writer with LevelDB's log preallocated, one key per write. It
// prints "ready" once the log has room allocated ahead (so the kill leaves a
// zero-filled tail), then the number of every write as soon as it resolves.
// The parent SIGKILLs it at a chosen moment.
import { Level } from 'level';
import { makeBatchWriter } from '../../src/storage/batch-writer';
import { LogPreallocator } from '../../src/storage/log-prealloc';

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const first = Number(process.argv[3]);
  const chunk = Number(process.argv[4]);
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const sub = db.sublevel<Buffer, Buffer>('t', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const p = new LogPreallocator(dir, undefined, chunk, chunk / 4).attach(db);
  const write = makeBatchWriter(sub);
  const key = (i: number) => Buffer.from(`k${String(i).padStart(8, '0')}`);
  const value = (i: number) => Buffer.from(`value-${i}-`.repeat(20));
  let i = first;
  // Bounded warm-up: writes until the first extension landed.
  for (let n = 0; n < 5000 && p.stats.extended === 0; n++, i++) {
    await write([{ type: 'put', key: key(i), value: value(i) }], true);
    await new Promise((r) => setTimeout(r, 1));
  }
  process.stdout.write(`ready ${p.stats.extended}\n`);
  // Bounded: the parent kills us long before.
  let inFlight = 0;
  for (let n = 0; n < 200_000; n++, i++) {
    while (inFlight >= 4) await new Promise((r) => setImmediate(r));
    inFlight++;
    const at = i;
    write([{ type: 'put', key: key(at), value: value(at) }], true).then(
      () => {
        inFlight--;
        process.stdout.write(`${at}\n`);
      },
      (err: unknown) => {
        process.stderr.write(`${String(err)}\n`);
        process.exit(2);
      },
    );
  }
}

void main();
