// The store's unsynced commits are lazy (storage/root-writer.ts): in a database
// of its own, with no synced write to ride along with, they must still leave
// together. Handing each commit over only after the previous one was written
// allowed one commit per lazy wait, and a busy member's commits piled up in
// memory faster than they were written.
import { afterEach, describe, expect, it } from 'vitest';
import { rootWriterOf } from '../../src/storage/batch-writer';
import type { RootDb } from '../../src/storage/root-writer';
import { b, StoreHarness } from './helpers';

let h: StoreHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('store commits', () => {
  it('commits handed over back to back share one LevelDB write, and all land in order', async () => {
    h = new StoreHarness();
    const s = await h.open();
    const stats = rootWriterOf(h.db as unknown as RootDb).stats;
    const before = { ...stats };
    const commits: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      s.put({ key: b(`k${i % 5}`), value: b(`v${i}`) }, i);
      commits.push(s.commit());
    }
    await Promise.all(commits);
    expect(stats.calls - before.calls).toBe(50);
    expect(stats.batches - before.batches).toBe(1);

    // Reopened from disk alone: the last write of each key and the last index won.
    const again = await h.reopen();
    expect(again.consistentIndex()).toBe(50);
    expect(again.rev).toBe(51);
    for (let k = 0; k < 5; k++) {
      const last = [46, 47, 48, 49, 50].find((i) => i % 5 === k)!;
      expect(again.range({ key: b(`k${k}`) }).kvs[0]!.value.toString()).toBe(`v${last}`);
    }
  });
});
