import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBatchWriter, rootWriterOf } from '../../src/storage/batch-writer';
import type { RootDb } from '../../src/storage/root-writer';

const dirs: string[] = [];
const dbs: Level<Buffer, Buffer>[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function open(encoding: 'buffer' | 'utf8' = 'buffer'): Promise<Level<Buffer, Buffer>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-ts-bw-'));
  dirs.push(dir);
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: encoding as 'buffer', valueEncoding: encoding as 'buffer' });
  await db.open();
  dbs.push(db);
  return db;
}

const b = (s: string | number[]): Buffer => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));

describe('makeBatchWriter', () => {
  it('writes puts and deletes that the sublevel (and only it) reads back, binary keys included', async () => {
    const db = await open();
    const wal = db.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const mvcc = db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const write = makeBatchWriter(wal);
    const bin = b([0, 255, 0x21, 0x7e, 1]);
    await write(
      [
        { type: 'put', key: b('a'), value: b('1') },
        { type: 'put', key: bin, value: b([9, 9]) },
        { type: 'put', key: b('gone'), value: b('x') },
      ],
      false,
    );
    await write([{ type: 'del', key: b('gone') }], true);
    expect(await wal.get(b('a'))).toEqual(b('1'));
    expect(await wal.get(bin)).toEqual(b([9, 9]));
    expect(await wal.get(b('gone'))).toBeUndefined();
    expect(await mvcc.get(b('a'))).toBeUndefined();
    const keys: Buffer[] = [];
    for await (const k of wal.keys()) keys.push(k);
    expect(keys).toEqual([bin, b("a")]);
    // The root sees the keys under the sublevel's prefix, as abstract-level itself writes them.
    expect(await db.get(Buffer.concat([b('!wal!'), b('a')]))).toEqual(b('1'));
  });

  it('handles nested sublevels and falls back to sublevel.batch() for other encodings', async () => {
    const db = await open();
    const nested = db.sublevel<Buffer, Buffer>('a', { keyEncoding: 'buffer', valueEncoding: 'buffer' }).sublevel<Buffer, Buffer>('b', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await makeBatchWriter(nested)([{ type: 'put', key: b('k'), value: b('v') }], false);
    expect(await nested.get(b('k'))).toEqual(b('v'));

    const textDb = await open('utf8');
    const sub = textDb.sublevel<Buffer, Buffer>('s', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await makeBatchWriter(sub)([{ type: 'put', key: b([0, 200]), value: b('v') }], false);
    expect(await sub.get(b([0, 200]))).toEqual(b('v'));
  });

  it("shares one writer between a database's sublevels: a lazy store batch rides with the WAL's", async () => {
    const db = await open();
    const wal = db.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const mvcc = db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const stats = rootWriterOf(db as unknown as RootDb).stats;
    const before = { ...stats };
    const lazy = makeBatchWriter(mvcc)([{ type: 'put', key: b('rev1'), value: b('record') }], false, true);
    const eager = makeBatchWriter(wal)([{ type: 'put', key: b('entry1'), value: b('data') }], true);
    await Promise.all([lazy, eager]);
    expect(stats.batches - before.batches).toBe(1);
    expect(stats.calls - before.calls).toBe(2);
    expect(await mvcc.get(b('rev1'))).toEqual(b('record'));
    expect(await wal.get(b('entry1'))).toEqual(b('data'));
  });

  it("writes through classic-level's binding, refuses a closed database, and a close waits for writes in flight", async () => {
    const db = await open();
    const wal = db.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    // Would be false if a classic-level upgrade hid the binding: writes would then
    // quietly take abstract-level's slower chained batch.
    expect(rootWriterOf(db as unknown as RootDb).native).toBe(true);
    const write = makeBatchWriter(wal);
    // The first write is in LevelDB's hands as soon as the call returns; the
    // second waits its turn behind it, so the close refuses it (as abstract-level
    // refuses a batch on a closing database).
    const inFlight = write([{ type: 'put', key: b('k0'), value: b('v0') }], true);
    const queued = write([{ type: 'put', key: b('k1'), value: b('v1') }], false);
    queued.catch(() => undefined);
    await db.close();
    await inFlight;
    await expect(queued).rejects.toThrow(/not open/);
    await expect(write([{ type: 'put', key: b('late'), value: b('x') }], true)).rejects.toThrow(/not open/);
    await db.open();
    const walKey = (k: string) => Buffer.concat([b('!wal!'), b(k)]);
    expect(await db.get(walKey('k0'))).toEqual(b('v0'));
    expect(await db.get(walKey('k1'))).toBeUndefined();
    expect(await db.get(walKey('late'))).toBeUndefined();
  });
});
