// Crash tests run a plain-node child (vitest cannot fork itself), read what it
// acknowledges line by line, and SIGKILL it at a chosen moment.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');

/** Compiles one child (and what it imports) into a fresh temp dir; returns the compiled path of the child. */
export function buildChild(source: string): { dir: string; script: string } {
  const dir = mkdtempSync(join(tmpdir(), 'crash-child-build-'));
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '--ignoreConfig', '--outDir', dir, '--rootDir', root,
      '--module', 'node16', '--moduleResolution', 'node16', '--target', 'ES2022', '--types', 'node',
      '--skipLibCheck', '--esModuleInterop', join(root, source)],
    { cwd: root, stdio: 'pipe' },
  );
  return { dir, script: join(dir, source.replace(/\.ts$/, '.js')) };
}

/**
 * Runs a compiled child; hands each line it prints to `onLine`, which returns
 * true to kill it there (from inside the data handler, so nothing printed
 * later can count). Resolves once it died of SIGKILL; rejects if it exited on
 * its own. Killed anyway after `guardMs`.
 */
export function runUntilKilled(script: string, args: string[], onLine: (line: string) => boolean, guardMs = 30_000): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), guardMs);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (onLine(l)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${stderr}`));
      else resolvePromise();
    });
  });
}
