import { describe, expect, it, vi } from 'vitest';
import { LAZY_MS, RootWriter, type RootOp } from '../../src/storage/root-writer';

/** A database that records each batch written and lets the test decide when it lands. */
function fakeDb(opts: { fail?: boolean } = {}) {
  const written: Array<{ keys: string[]; sync: boolean }> = [];
  const release: Array<() => void> = [];
  const db = {
    batch() {
      const keys: string[] = [];
      return {
        put: (k: Buffer) => keys.push(`put:${k}`),
        del: (k: Buffer) => keys.push(`del:${k}`),
        write: (o: { sync?: boolean }) =>
          new Promise<void>((resolve, reject) => {
            written.push({ keys, sync: !!o.sync });
            release.push(() => (opts.fail ? reject(new Error('disk full')) : resolve()));
          }),
      };
    },
  };
  return { db, written, release };
}

const put = (k: string): RootOp => ({ type: 'put', key: Buffer.from(k), value: Buffer.from('v') });
const tick = () => new Promise((r) => setImmediate(r));

describe('RootWriter', () => {
  it('writes an eager batch at once and merges what arrives meanwhile into the next, in order', async () => {
    const { db, written, release } = fakeDb();
    const w = new RootWriter(db);
    const done: string[] = [];
    const a = w.write([put('a')], true).then(() => done.push('a'));
    await tick();
    expect(written).toEqual([{ keys: ['put:a'], sync: true }]);
    const b = w.write([put('b')], false).then(() => done.push('b'));
    const c = w.write([put('c'), { type: 'del', key: Buffer.from('x') }], false).then(() => done.push('c'));
    release.shift()!();
    await a;
    await tick();
    expect(written[1]).toEqual({ keys: ['put:b', 'put:c', 'del:x'], sync: false });
    release.shift()!();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
    expect(w.stats).toEqual({ batches: 2, calls: 3 });
  });

  it('lets a lazy write wait for the next eager one and share its LevelDB write', async () => {
    const { db, written, release } = fakeDb();
    const w = new RootWriter(db);
    const lazy = w.write([put('store')], false, true);
    await tick();
    expect(written).toHaveLength(0);
    const eager = w.write([put('wal')], true);
    await tick();
    expect(written).toEqual([{ keys: ['put:store', 'put:wal'], sync: true }]);
    release.shift()!();
    await Promise.all([lazy, eager]);
    expect(w.stats).toEqual({ batches: 1, calls: 2 });
  });

  it('writes a lazy batch on its own when nothing else comes', async () => {
    const { db, written, release } = fakeDb();
    const w = new RootWriter(db);
    const lazy = w.write([put('alone')], false, true);
    for (let i = 0; i < 200 && written.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(written).toEqual([{ keys: ['put:alone'], sync: false }]);
    release.shift()!();
    await lazy;
  });

  it('keeps one lazy timer running across writes, and still writes a lazy batch within LAZY_MS', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { db, written, release } = fakeDb();
      const w = new RootWriter(db);
      // One client's pace: each lazy store batch rides along with the next WAL write.
      for (let i = 0; i < 5; i++) {
        const lazy = w.write([put(`store${i}`)], false, true);
        const eager = w.write([put(`wal${i}`)], true);
        await vi.advanceTimersByTimeAsync(1);
        release.shift()!();
        await Promise.all([lazy, eager]);
        expect(vi.getTimerCount()).toBeLessThanOrEqual(1);
      }
      expect(written).toHaveLength(5);
      // The timer armed by the first lazy batch is still running: a lazy batch
      // queued now waits only for what is left of it, and nothing more.
      const late = w.write([put('late')], false, true);
      await vi.advanceTimersByTimeAsync(LAZY_MS - 5);
      expect(written.at(-1)).toEqual({ keys: ['put:late'], sync: false });
      release.shift()!();
      await late;
      // Firing with nothing to write arms nothing.
      await vi.advanceTimersByTimeAsync(LAZY_MS * 2);
      expect(vi.getTimerCount()).toBe(0);
      expect(written).toHaveLength(6);
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails the callers of a failed write, and keeps writing later batches', async () => {
    const failing = fakeDb({ fail: true });
    const w = new RootWriter(failing.db);
    const p = w.write([put('a')], true);
    await tick();
    failing.release.shift()!();
    await expect(p).rejects.toThrow('disk full');
    const q = w.write([put('b')], true);
    await tick();
    expect(failing.written).toHaveLength(2);
    failing.release.shift()!();
    await expect(q).rejects.toThrow('disk full');
  });
});
