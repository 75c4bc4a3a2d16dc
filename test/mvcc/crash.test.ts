// Crash test: a child process applies the deterministic workload in batches
// and is killed with SIGKILL at random moments. After each kill the store is
// reopened here and must equal the model at exactly the consistent index it
// reports (nothing half-applied, nothing lost that was reported durable).
// The child is plain Node running a tsc build of this folder (vitest can't
// fork itself). Bounded in rounds and in time; no timing assertions.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MvccStore } from '../../src/mvcc';
import { StoreHarness, byteValues } from './helpers';
import { opFor, rng } from './crash-workload';
import { Model } from './model';

const root = resolve(__dirname, '../..');
const outDir = join(root, 'dist', `crash-test-${process.pid}`);
const child = join(outDir, 'test', 'mvcc', 'crash-child.js');

beforeAll(() => {
  execFileSync(
    join(root, 'node_modules', '.bin', 'tsc'),
    ['--ignoreConfig', '--outDir', outDir, '--rootDir', root, '--module', 'node16', '--moduleResolution', 'node16',
      '--target', 'ES2022', '--types', 'node', '--skipLibCheck', '--strict', join(root, 'test/mvcc/crash-child.ts')],
    { stdio: 'inherit' },
  );
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function runChildFor(dir: string, seed: number, ms: number): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [child, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    let started = false;
    p.stdout.on('data', () => {
      if (started) return;
      started = true;
      setTimeout(() => p.kill('SIGKILL'), ms);
    });
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? res() : rej(new Error(`child exited ${code}: ${err}`))));
  });
}

/** Applies entries from..to to a reference store that never crashes. */
async function advanceRef(ref: MvccStore, seed: number, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) {
    try {
      ref.applyWrite(opFor(seed, i, ref.rev), i);
    } catch {
      // same refusals as the child
    }
  }
  await ref.commit();
}

/** Advances the model over entries from..to in order, exactly as the child applied them. */
function advance(m: Model, seed: number, from: number, to: number): Model {
  for (let i = from; i <= to; i++) {
    const op = opFor(seed, i, m.rev);
    try {
      if ('put' in op) m.put(op.put);
      else if ('deleteRange' in op) m.txn({ compare: [], success: [{ requestDeleteRange: op.deleteRange }], failure: [] });
      else if ('txn' in op) m.txn(op.txn);
      else m.compact(op.compaction.revision);
    } catch {
      // refused entries change nothing, in the store as in the model
    }
  }
  return m;
}

describe('crash safety', () => {
  it('after SIGKILL the store equals the model at its consistent index', async () => {
    const seed = 4242;
    const dir = mkdtempSync(join(tmpdir(), 'mvcc-crash-'));
    const r = rng(seed);
    const deadline = Date.now() + 12_000;
    let lastCi = 0;
    const m = new Model();
    const cis: number[] = [];
    const ref = new StoreHarness();
    const refStore = await ref.open();
    try {
      for (let round = 0; round < 8 && Date.now() < deadline; round++) {
        await runChildFor(dir, seed, 20 + Math.floor(r() * 300));
        const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        await db.open();
        const s = await MvccStore.open(db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' }));
        const ci = s.consistentIndex();
        expect(ci).toBeGreaterThanOrEqual(lastCi); // durable progress is never lost
        advance(m, seed, lastCi + 1, ci);
        await advanceRef(refStore, seed, lastCi + 1, ci);
        // Same requests, same hash, whatever each one's physical compaction progress.
        expect(await s.hashKV()).toEqual(await refStore.hashKV());
        cis.push(ci);
        expect(s.rev, `round ${round} ci ${ci}`).toBe(m.rev);
        expect(s.compactRev).toBe(m.compactRev);
        const all = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
        expect(byteValues(s.range(all))).toEqual(m.range(all));
        // A few historical reads, as far back as compaction allows.
        for (let k = 0; k < 5; k++) {
          const rev = Math.max(m.compactRev, 1) + Math.floor(r() * (m.rev - Math.max(m.compactRev, 1) + 1));
          expect(byteValues(s.range({ ...all, revision: rev })), `rev ${rev}`).toEqual(m.range({ ...all, revision: rev }));
        }
        const from = m.compactRev + 1;
        const page = await s.eventsFrom(from, Buffer.from([0]), Buffer.from([0]));
        expect(page.events.length).toBe(m.events(from).length);
        await s.close();
        await db.close();
        lastCi = ci;
      }
      console.log(`crash test: consistent index after each kill: ${cis.join(', ')}`);
      expect(lastCi).toBeGreaterThan(0);
    } finally {
      await ref.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
