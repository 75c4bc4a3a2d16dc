// LevelDB's log extended ahead of its writer (src/storage/log-prealloc.ts):
// the room is really there, LevelDB keeps writing into it, and a database
// reopened over a log with a zero-filled tail has everything written to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, expect, it } from 'vitest';
import { makeBatchWriter } from '../../src/storage/batch-writer';
import { LogPreallocator, PREALLOC_CHECK_MS } from '../../src/storage/log-prealloc';

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

const key = (i: number) => Buffer.from(`k${String(i).padStart(6, '0')}`);
const value = (i: number) => Buffer.alloc(2048, i % 251);

it.skipIf(process.platform !== 'linux')('keeps room ahead of the writer and the data survives a reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prealloc-'));
  dirs.push(dir);
  let { db, sub, write } = await openAt(dir);
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
  const dir = mkdtempSync(join(tmpdir(), 'prealloc-switch-'));
  dirs.push(dir);
  const { db, write } = await openAt(dir);
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
  const dir = mkdtempSync(join(tmpdir(), 'prealloc-empty-'));
  dirs.push(dir);
  const p = new LogPreallocator(dir, undefined, CHUNK, LOW);
  if (process.platform === 'linux') expect(p.room()).toBeUndefined();
  p.afterWrite();
  await sleep(PREALLOC_CHECK_MS);
  expect(p.stats).toEqual({ extended: 0, failed: 0 });
  p.close();
  p.afterWrite();
  expect(p.stats).toEqual({ extended: 0, failed: 0 });
});
