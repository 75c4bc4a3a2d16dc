// Kill -9 a process in the middle of synced WAL writes, many times: every
// save() that resolved before the kill must be there after reopening, and
// the log must load without gaps.
import { spawn, execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Wal } from '../../src/wal';
import { openDb, removeDir, tempDir } from './helpers';

const root = resolve(__dirname, '../..');
let buildDir = '';

beforeAll(() => {
  // Compile just the child and what it imports; the parent process runs TS
  // through vitest, the child is plain node.
  buildDir = tempDir('wal-crash-build-');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '--ignoreConfig', '--outDir', buildDir, '--rootDir', root,
      '--module', 'node16', '--moduleResolution', 'node16', '--target', 'ES2022', '--types', 'node',
      '--skipLibCheck', '--esModuleInterop', join(root, 'test/wal/crash-child.ts')],
    { cwd: root, stdio: 'pipe' },
  );
});
afterAll(() => removeDir(buildDir));

function runUntilKilled(dir: string, seed: number, killAfterAcks: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(buildDir, 'test/wal/crash-child.js'), dir, String(seed)], {
      env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = 0;
    let acks = 0;
    let buf = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        acked = Math.max(acked, Number(l));
        // Kill from inside the data handler: no ack printed after this can count.
        if (++acks === killAfterAcks) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${stderr}`));
      else resolvePromise(acked);
    });
  });
}

it('keeps every acknowledged save across SIGKILL at random moments', async () => {
  const dir = tempDir('wal-crash-');
  try {
    let seed = 7;
    let maxAcked = 0;
    for (let round = 0; round < 6; round++) {
      seed = (seed * 48271) % 2147483647;
      const acked = await runUntilKilled(dir, seed, 5 + (seed % 200));
      const t = await openDb(dir);
      try {
        const wal = await Wal.open(t.wal, { memberId: 'a1', clusterId: 'c1' });
        const s = await wal.load();
        const last = s.entries.at(-1)?.index ?? 0;
        expect(last).toBeGreaterThanOrEqual(acked);
        expect(last).toBeGreaterThanOrEqual(maxAcked);
        expect(s.entries[0]?.index).toBe(1);
        for (const e of s.entries) expect(Buffer.from(e.data).toString()).toBe(`${e.term}:${e.index}`);
        if (process.env.WAL_CRASH_DEBUG) console.log(`round ${round}: acked ${acked}, recovered ${last}`);
        maxAcked = Math.max(maxAcked, acked);
      } finally {
        await t.close();
      }
    }
    expect(maxAcked).toBeGreaterThan(0);
  } finally {
    removeDir(dir);
  }
});
