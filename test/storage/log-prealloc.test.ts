// LevelDB's log extended ahead of its writer (src/storage/log-prealloc.ts):
// the room is really there, LevelDB keeps writing into it, and a database
// reopened over a log with a zero-filled tail has everything written to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, expect, it } from 'vitest';
import { makeBatchWriter } from '../../src/storage/batch-writer';
import { logBytesUpperBound, LogPreallocator, PREALLOC_CHECK_MS } from '../../src/storage/log-prealloc';
import type { RootOp } from '../../src/storage/root-writer';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHUNK = 256 * 1024;
const LOW = 64 * 1024;

async function openAt(dir: string) {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const sub = db.sublevel<Buffer, Buffer>('t', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  return { db, sub, write: makeBatchWriter(sub) };
}

/** A fresh directory (removed after the test) with a database open in it. */
async function freshDb(prefix: string) {
  const dir = tempDir(prefix);
  return { dir, ...(await openAt(dir)) };
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

const key = (i: number) => Buffer.from(`k${String(i).padStart(6, '0')}`);
const value = (i: number) => Buffer.alloc(2048, i % 251);

it.skipIf(process.platform !== 'linux')('keeps room ahead of the writer and the data survives a reopen', async () => {
  const opened = await freshDb('prealloc-');
  const { dir, write } = opened;
  // Reopened below.
  let { db, sub } = opened;
  const p = new LogPreallocator(dir, undefined, CHUNK, LOW).attach(db);

  // ~800 KB of synced writes, slowly enough for a check every PREALLOC_CHECK_MS.
  const N = 400;
  for (let i = 0; i < N; i++) {
    await write([{ type: 'put', key: key(i), value: value(i) }], true);
    if (i % 10 === 9) await sleep(PREALLOC_CHECK_MS / 2);
  }
  // One more write after a full interval, then let its check (and any fallocate) finish.
  const before = p.stats.extended;
  await sleep(PREALLOC_CHECK_MS + 5);
  await write([{ type: 'put', key: key(N), value: value(N) }], true);
  for (let t = 0; t < 100 && (p.room()!.size - p.room()!.pos < LOW || p.stats.extended === before); t++) await sleep(20);

  const room = p.room()!;
  expect(room.file).toMatch(/\d+\.log$/);
  // 800 KB through 256 KB chunks: extended several times, never failed.
  expect(p.stats.extended).toBeGreaterThanOrEqual(3);
  expect(p.stats.failed).toBe(0);
  expect(room.pos).toBeGreaterThan(N * 2048);
  expect(room.size - room.pos).toBeGreaterThanOrEqual(LOW);

  // Reopened over a log whose tail is zeros: every write is there.
  p.close();
  await db.close();
  ({ db, sub } = await openAt(dir));
  try {
    for (let i = 0; i <= N; i++) expect((await sub.get(key(i)))?.equals(value(i))).toBe(true);
  } finally {
    await db.close();
  }
});

it.skipIf(process.platform !== 'linux')('follows LevelDB to its next log and keeps room ahead there too', async () => {
  const { dir, db, write } = await freshDb('prealloc-switch-');
  try {
    const p = new LogPreallocator(dir, undefined, CHUNK, LOW).attach(db);
    await write([{ type: 'put', key: key(0), value: value(0) }], true);
    await sleep(PREALLOC_CHECK_MS);
    const first = p.room()!.file;
    // LevelDB starts a new log once its 4 MB write buffer is full: write 6 MB.
    const big = Buffer.alloc(64 * 1024, 7);
    for (let i = 1; i <= 96; i++) {
      await write([{ type: 'put', key: key(i), value: big }], true);
      if (i % 8 === 0) await sleep(PREALLOC_CHECK_MS / 2);
    }
    const second = p.room()!.file;
    expect(second).not.toBe(first);
    // A write after a full interval makes the next check look at the new log.
    for (let t = 0; t < 100; t++) {
      await sleep(PREALLOC_CHECK_MS + 5);
      await write([{ type: 'put', key: key(1000 + t), value: value(t) }], true);
      const r = p.room()!;
      if (r.size - r.pos >= LOW) break;
    }
    const room = p.room()!;
    expect(room.file).toBe(second);
    expect(room.size - room.pos).toBeGreaterThanOrEqual(LOW);
    p.close();
  } finally {
    await db.close();
  }
});

it('does nothing once closed, and nothing on a directory without a LevelDB log', async () => {
  const dir = tempDir('prealloc-empty-');
  const p = new LogPreallocator(dir, undefined, CHUNK, LOW);
  if (process.platform === 'linux') expect(p.room()).toBeUndefined();
  p.afterWrite();
  await sleep(PREALLOC_CHECK_MS);
  expect(p.stats).toEqual({ extended: 0, failed: 0, measured: 0 });
  p.close();
  p.afterWrite();
  expect(p.stats).toEqual({ extended: 0, failed: 0, measured: 0 });
});

it.skipIf(process.platform !== 'linux')('bounds what a batch appends to the log, so the room is never overestimated', async () => {
  const { dir, db } = await freshDb('prealloc-bound-');
  try {
    // Not attached: only room() reads the log here.
    const p = new LogPreallocator(dir, undefined, CHUNK, LOW);
    const sizes = [0, 1, 100, 300, 2048, 32_700, 32_768, 40_000, 100_000, 200_000];
    let { pos, file } = p.room()!;
    let compared = 0;
    for (let i = 0; i < 60; i++) {
      const n = 1 + (i % 4);
      const ops: RootOp[] = [];
      for (let j = 0; j < n; j++) {
        const key = Buffer.from(`key-${i}-${j}`);
        if ((i + j) % 5 === 4) ops.push({ type: 'del', key });
        else ops.push({ type: 'put', key, value: Buffer.alloc(sizes[(i * 3 + j) % sizes.length]!, i) });
      }
      const b = db.batch();
      for (const op of ops) {
        if (op.type === 'put') b.put(op.key, op.value);
        else b.del(op.key);
      }
      await b.write({ sync: false });
      const r = p.room()!;
      const now = r.pos;
      // LevelDB started a new log (its 4 MB write buffer filled): nothing to compare.
      if (r.file !== file) {
        ({ pos, file } = r);
        continue;
      }
      compared++;
      const bound = logBytesUpperBound(ops);
      expect(now - pos).toBeGreaterThan(0);
      expect(now - pos).toBeLessThanOrEqual(bound);
      // Tight enough to be worth having: never more than the framing's worst case over.
      expect(bound - (now - pos)).toBeLessThanOrEqual(13 * (2 + Math.floor(bound / 32_761)) + 10 * n);
      pos = now;
    }
    expect(compared).toBeGreaterThan(50);
  } finally {
    await db.close();
  }
});

it.skipIf(process.platform !== 'linux')('between looks at /proc, the room comes from the estimate', async () => {
  const { dir, db, write } = await freshDb('prealloc-estimate-');
  try {
    // Room to spare: a 4 MB chunk against 300 writes of ~2 KB.
    // No look falls due by the clock in this test (60 s).
    const p = new LogPreallocator(dir, undefined, 4 * 1024 * 1024, LOW, 60_000).attach(db);
    await write([{ type: 'put', key: key(0), value: value(0) }], true);
    for (let t = 0; t < 50 && p.stats.extended === 0; t++) {
      await sleep(PREALLOC_CHECK_MS + 5);
      await write([{ type: 'put', key: key(0), value: value(0) }], true);
    }
    expect(p.stats.extended).toBe(1);
    const measured = p.stats.measured;
    // ~15 checks come due; with the room estimated, none needs /proc.
    for (let i = 1; i <= 300; i++) {
      await write([{ type: 'put', key: key(i), value: value(i) }], true);
      if (i % 20 === 0) await sleep(PREALLOC_CHECK_MS + 2);
    }
    expect(p.stats.measured).toBe(measured);
    expect(p.stats.extended).toBe(1);
    p.close();
  } finally {
    await db.close();
  }
});
