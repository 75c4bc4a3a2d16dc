// Opens a throwaway Level database in a temp dir with the same sublevel the
// server gives the WAL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import type { WalDb } from '../../src/wal';
import { EntryType, type Entry } from '../../src/raft/types';

export interface TestDb {
  dir: string;
  db: Level<Buffer, Buffer>;
  wal: WalDb;
  close(): Promise<void>;
}

export function tempDir(prefix = 'wal-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function openDb(dir: string): Promise<TestDb> {
  const db = new Level<Buffer, Buffer>(join(dir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const wal: WalDb = db.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  return { dir, db, wal, close: () => db.close() };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function ents(first: number, last: number, term: number, tag = ''): Entry[] {
  const out: Entry[] = [];
  for (let i = first; i <= last; i++) {
    out.push({ index: i, term, type: EntryType.Normal, data: Buffer.from(`${tag}${i}`) });
  }
  return out;
}
