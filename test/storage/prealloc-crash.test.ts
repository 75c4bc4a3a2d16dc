// Kill -9 a process in the middle of synced writes into a preallocated
// LevelDB log, several times over the same database: the log then ends in a
// zero-filled tail, which LevelDB's recovery must skip, and every write
// acknowledged before the kill must be there after reopening.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const CHUNK = 1024 * 1024;
let buildDir = '';

beforeAll(() => {
  buildDir = mkdtempSync(join(tmpdir(), 'prealloc-crash-build-'));
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '--ignoreConfig', '--outDir', buildDir, '--rootDir', root,
      '--module', 'node16', '--moduleResolution', 'node16', '--target', 'ES2022', '--types', 'node',
      '--skipLibCheck', '--esModuleInterop', join(root, 'test/storage/prealloc-crash-child.ts')],
    { cwd: root, stdio: 'pipe' },
  );
});
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

/** Runs the child from key `first`; kills it after `killAfter` acknowledged writes. Resolves the acknowledged keys. */
function runUntilKilled(dir: string, first: number, killAfter: number): Promise<number[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(buildDir, 'test/storage/prealloc-crash-child.js'), dir, String(first), String(CHUNK)], {
      env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let ready = false;
    let buf = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('ready')) {
          ready = l !== 'ready 0';
          continue;
        }
        acked.push(Number(l));
        // Kill from inside the data handler: no ack printed after this can count.
        if (acked.length === killAfter) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${stderr}`));
      else if (!ready) reject(new Error('the log was never preallocated (is fallocate(1) installed?)'));
      else resolvePromise(acked);
    });
  });
}

/** The size of the newest LevelDB log in `dir`. */
function newestLogSize(dir: string): number {
  const logs = readdirSync(dir).filter((f) => /^\d+\.log$/.test(f)).sort();
  return statSync(join(dir, logs[logs.length - 1]!)).size;
}

it.skipIf(process.platform !== 'linux')('keeps every acknowledged write across SIGKILL with a zero-filled log tail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prealloc-crash-'));
  try {
    let first = 0;
    for (const killAfter of [3, 150, 40, 700]) {
      const acked = await runUntilKilled(dir, first, killAfter);
      expect(acked.length).toBeGreaterThanOrEqual(killAfter);
      // What the child wrote is far below a chunk: the rest of the file is the zero tail.
      expect(newestLogSize(dir)).toBeGreaterThanOrEqual(CHUNK);
      const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      try {
        const sub = db.sublevel<Buffer, Buffer>('t', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        for (const i of acked) {
          const v = await sub.get(Buffer.from(`k${String(i).padStart(8, '0')}`));
          expect(v?.toString()).toBe(`value-${i}-`.repeat(20));
        }
        first = Math.max(...acked) + 100;
      } finally {
        await db.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
