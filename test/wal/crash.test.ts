// Kill -9 a process in the middle of synced WAL writes, many times: every
// save() that resolved before the kill must be there after reopening, and
// the log must load without gaps.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Wal } from '../../src/wal';
import { buildChild, runUntilKilled as runChild } from '../support/crash-child';
import { openDb, removeDir, tempDir } from './helpers';

let child = { dir: '', script: '' };

beforeAll(() => {
  child = buildChild('test/wal/crash-child.ts');
});
afterAll(() => rmSync(child.dir, { recursive: true, force: true }));

/** Runs the child until its `killAfterAcks`-th acknowledgement; resolves the highest index acknowledged. */
async function runUntilKilled(dir: string, seed: number, killAfterAcks: number): Promise<number> {
  let acked = 0;
  let acks = 0;
  await runChild(child.script, [dir, String(seed)], (l) => {
    acked = Math.max(acked, Number(l));
    return ++acks === killAfterAcks;
  }, 20_000);
  return acked;
}

it('keeps every acknowledged save across SIGKILL at random moments', async () => {
  const dir = tempDir('wal-crash-');
  try {
    let seed = 7;
    let maxAcked = 0;
    for (let round = 0; round < 6; round++) {
      seed = (seed * 48271) % 2147483647;
      const acked = await runUntilKilled(dir, seed, 5 + (seed % 200));
      const t = await openDb(dir);
      try {
        const wal = await Wal.open(t.wal, { memberId: 'a1', clusterId: 'c1' });
        const s = await wal.load();
        const last = s.entries.at(-1)?.index ?? 0;
        expect(last).toBeGreaterThanOrEqual(acked);
        expect(last).toBeGreaterThanOrEqual(maxAcked);
        expect(s.entries[0]?.index).toBe(1);
        for (const e of s.entries) expect(Buffer.from(e.data).toString()).toBe(`${e.term}:${e.index}`);
        if (process.env.WAL_CRASH_DEBUG) console.log(`round ${round}: acked ${acked}, recovered ${last}`);
        maxAcked = Math.max(maxAcked, acked);
      } finally {
        await t.close();
      }
    }
    expect(maxAcked).toBeGreaterThan(0);
  } finally {
    removeDir(dir);
  }
});
