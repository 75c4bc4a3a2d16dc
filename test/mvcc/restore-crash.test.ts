// A member killed while it installs a snapshot from its leader: after the
// restart, the store must be either exactly what it was before (its Raft log
// then replays on top of it) or exactly the snapshot's state, never a mix of
// the two under the old consistent index. The child restores a real image and
// is SIGKILLed at different moments of the restore. Bounded in rounds and time.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MvccStore } from '../../src/mvcc';
import { buildChild, runUntilKilled } from '../support/crash-child';
import { b, StoreHarness } from './helpers';

let child = { dir: '', script: '' };

beforeAll(() => {
  child = buildChild('test/mvcc/restore-crash-child.ts');
});
afterAll(() => rmSync(child.dir, { recursive: true, force: true }));

/** `n` puts over `keys` keys of ~300-byte values, at Raft indexes from `firstIndex`; committed durably. */
async function fill(s: MvccStore, tag: string, n: number, keys: number, firstIndex: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    s.put({ key: b(`key-${i % keys}`), value: b(`${tag}-${i}-`.repeat(30)) }, firstIndex + i);
  }
  await s.commit({ sync: true });
}

interface State {
  ci: number;
  rev: number;
  hash: number;
}

async function stateOf(s: MvccStore): Promise<State> {
  return { ci: s.consistentIndex(), rev: s.rev, hash: (await s.hashKV()).hash };
}

// The "tick" (event loop turn) after which the child dies; -1: after "done".
const KILL_AT = [0, 1, 2, 3, 5, 8, 13, 21, 40, -1];

it('a store killed while restoring a snapshot reopens as its old state or the whole new one', async () => {
  // The image: another store's state, different keys and values, fewer
  // revisions (so the old ones above its last must be deleted), later index.
  const src = new StoreHarness();
  const s = await src.open();
  await fill(s, 'new', 5000, 4000, 10_000);
  const chunks: Buffer[] = [];
  for await (const c of s.snapshot()) chunks.push(c);
  const image = join(src.dir, 'image.bin');
  writeFileSync(image, Buffer.concat(chunks));
  const fresh = await stateOf(s);
  const outcomes = { old: 0, new: 0 };
  try {
    for (const killAt of KILL_AT) {
      const h = new StoreHarness();
      try {
        await fill(await h.open(), 'old', 7000, 3000, 1);
        const old = await stateOf(h.store);
        await h.store.close();
        await h.db.close();
        let ticks = 0;
        await runUntilKilled(child.script, [h.dir, image], (line) => {
          if (line === 'done') return true;
          return line === 'tick' && ticks++ === killAt;
        });
        const after = await stateOf(await h.open());
        if (after.ci === old.ci) {
          expect(after, `killed at tick ${killAt}`).toEqual(old);
          outcomes.old++;
        } else {
          expect(after, `killed at tick ${killAt}`).toEqual(fresh);
          outcomes.new++;
        }
      } finally {
        await h.dispose();
      }
    }
  } finally {
    await src.dispose();
  }
  // Both ends were reached: killed before the restore landed, and after it.
  expect(outcomes.old).toBeGreaterThan(0);
  expect(outcomes.new).toBeGreaterThan(0);
}, 120_000);
