// Files from the bbolt writer, read by bbolt itself: `etcdctl snapshot status`
// opens the file with etcd's bbolt, runs its consistency check (every page
// reachable or free, none twice) and walks every bucket. Shapes: empty, one
// leaf, many leaves under branch levels, and values spilling into overflow pages.
// The reader reads each back pair for pair. (Files written by etcd itself, inline
// buckets among them, are read in test/cluster/snapshot-e2e.test.ts.)
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BOLT_PAGE_SIZE, writeBoltFile } from '../../src/snapshot/bbolt-writer';
import { BoltReader } from '../../src/snapshot/bbolt-reader';
import { revisionBytes } from '../../src/snapshot/etcd-backend';
import { requireTool } from '../support/tools';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbolt-writer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes a file with n revisions of vs-byte values in the "key" bucket (plus an empty "meta"), as etcdctl saves it (digest appended). */
async function write(name: string, n: number, vs: number): Promise<{ file: string; size: number }> {
  const db = path.join(dir, `${name}.db`);
  const fh = await fsp.open(db, 'w+');
  const entries: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i < n; i++) entries.push([revisionBytes(i + 2, 0), Buffer.alloc(vs, i % 251)]);
  const size = await writeBoltFile(fh, [
    { name: Buffer.from('key'), entries },
    { name: Buffer.from('meta'), entries: [] },
  ]);
  await fh.close();
  const bytes = fs.readFileSync(db);
  const file = path.join(dir, `${name}.snap`);
  fs.writeFileSync(file, Buffer.concat([bytes, createHash('sha256').update(bytes).digest()]));
  return { file, size };
}

function status(file: string): { revision: number; totalKey: number; totalSize: number } {
  const out = execFileSync(requireTool('etcdctl')!, ['snapshot', 'status', file, '-w', 'json'], { env: { ETCDCTL_API: '3' }, encoding: 'utf8' });
  return JSON.parse(out) as { revision: number; totalKey: number; totalSize: number };
}

describe('bbolt writer', () => {
  const shapes: Array<[string, number, number]> = [
    ['empty', 0, 0],
    ['one leaf', 10, 10],
    ['branches', 5000, 300],
    ['overflow', 40, 3 * BOLT_PAGE_SIZE],
  ];
  for (const [name, n, vs] of shapes) {
    it(`writes a file bbolt opens and checks: ${name}`, async () => {
      if (!requireTool('etcdctl')) return;
      const { file, size } = await write(name.replace(' ', '-'), n, vs);
      expect(size % BOLT_PAGE_SIZE).toBe(0);
      expect(status(file)).toEqual({ hash: expect.any(Number), revision: n === 0 ? 0 : n + 1, totalKey: n, totalSize: size });
    });

    it(`reads back what it wrote: ${name}`, async () => {
      const { file, size } = await write(`${name.replace(' ', '-')}-read`, n, vs);
      const fd = fs.openSync(file, 'r');
      try {
        const reader = new BoltReader(fd, size);
        expect(reader.buckets()).toEqual(['key', 'meta']);
        const got = [...reader.entries('key')];
        expect(got).toHaveLength(n);
        got.forEach(([k, v], i) => {
          expect(k.equals(revisionBytes(i + 2, 0))).toBe(true);
          expect(v.equals(Buffer.alloc(vs, i % 251))).toBe(true);
        });
        expect([...reader.entries('meta')]).toEqual([]);
        expect([...reader.entries('absent')]).toEqual([]);
      } finally {
        fs.closeSync(fd);
      }
    });
  }
});
