// Shared test plumbing: a store on a sublevel of a fresh Level database in a
// temp dir (the way the server will hand it one), reopenable in place.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { MvccStore, type MvccStoreOptions } from '../../src/mvcc';

// latin1: one char per byte, so test strings can hold any byte (e.g. 0xff).
export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

export class StoreHarness {
  db!: Level<Buffer, Buffer>;
  store!: MvccStore;
  readonly dir: string;

  constructor(readonly opts: MvccStoreOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'mvcc-test-'));
  }

  async open(): Promise<MvccStore> {
    this.db = new Level<Buffer, Buffer>(this.dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await this.db.open();
    const sub = this.db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    this.store = await MvccStore.open(sub, this.opts);
    return this.store;
  }

  /** Close without committing pending changes: what a crash leaves behind. */
  async crash(): Promise<void> {
    await this.db.close();
  }

  async reopen(): Promise<MvccStore> {
    await this.store.close();
    await this.db.close();
    return this.open();
  }

  async dispose(): Promise<void> {
    if (this.db.status === 'open') {
      await this.store.close();
      await this.db.close();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function keys(kvs: { key: Buffer | string }[]): string[] {
  return kvs.map((kv) => (typeof kv.key === 'string' ? kv.key : kv.key.toString('latin1')));
}

/**
 * A store answer with every KeyValue's key and value as Buffers: the store
 * hands out keys and live values as latin1 strings (see KeyValue), the model
 * as Buffers.
 */
export function byteValues<T>(x: T): T {
  if (Array.isArray(x)) return x.map(byteValues) as T;
  if (x === null || typeof x !== 'object' || Buffer.isBuffer(x)) return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) out[k] = (k === 'value' || k === 'key') && typeof v === 'string' ? Buffer.from(v, 'latin1') : byteValues(v);
  return out as T;
}
