// Kill -9 a process in the middle of synced writes into a preallocated
// LevelDB log, several times over the same database: the log then ends in a
// zero-filled tail, which LevelDB's recovery must skip, and every write
// acknowledged before the kill must be there after reopening.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildChild, runUntilKilled as runChild } from '../support/crash-child';

const CHUNK = 1024 * 1024;
let child = { dir: '', script: '' };

beforeAll(() => {
  child = buildChild('test/storage/prealloc-crash-child.ts');
});
afterAll(() => rmSync(child.dir, { recursive: true, force: true }));

/** Runs the child from key `first`; kills it after `killAfter` acknowledged writes. Resolves the acknowledged keys. */
async function runUntilKilled(dir: string, first: number, killAfter: number): Promise<number[]> {
  const acked: number[] = [];
  let ready = false;
  await runChild(child.script, [dir, String(first), String(CHUNK)], (l) => {
    if (l.startsWith('ready')) {
      ready = l !== 'ready 0';
      return false;
    }
    acked.push(Number(l));
    return acked.length === killAfter;
  });
  if (!ready) throw new Error('the log was never preallocated (is fallocate(1) installed?)');
  return acked;
}

/** The size of the newest LevelDB log in `dir`. */
function newestLogSize(dir: string): number {
  const logs = readdirSync(dir).filter((f) => /^\d+\.log$/.test(f)).sort();
  return statSync(join(dir, logs[logs.length - 1]!)).size;
}

it.skipIf(process.platform !== 'linux')('keeps every acknowledged write across SIGKILL with a zero-filled log tail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prealloc-crash-'));
  try {
    let first = 0;
    for (const killAfter of [3, 150, 40, 700]) {
      const acked = await runUntilKilled(dir, first, killAfter);
      expect(acked.length).toBeGreaterThanOrEqual(killAfter);
      // What the child wrote is far below a chunk: the rest of the file is the zero tail.
      expect(newestLogSize(dir)).toBeGreaterThanOrEqual(CHUNK);
      const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      try {
        const sub = db.sublevel<Buffer, Buffer>('t', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        for (const i of acked) {
          const v = await sub.get(Buffer.from(`k${String(i).padStart(8, '0')}`));
          expect(v?.toString()).toBe(`value-${i}-`.repeat(20));
        }
        first = Math.max(...acked) + 100;
      } finally {
        await db.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
