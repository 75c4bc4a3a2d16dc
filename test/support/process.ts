// Spawning etcd-ts member processes (the compiled bin, as users run it) and
// waiting on them, with every wait bounded in time.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MEMBER_NODE_FLAGS } from '../../src/cli/gc-tuning';

/** The repository root, found upwards so both test/ (vitest) and dist/test/ (compiled benches) work. */
export const REPO = findRepo(__dirname);

function findRepo(from: string): string {
  for (let dir = from, i = 0; i < 8; i++, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'bin', 'etcd-ts.js'))) return dir;
  }
  return path.resolve(from, '..', '..');
}
export const BIN = path.join(REPO, 'bin', 'etcd-ts.js');

export interface Spawned {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first JSON log line whose msg matches, or rejects after timeoutMs. */
  waitForLog(msg: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnMember(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Spawned {
  const proc = spawn(process.execPath, [...MEMBER_NODE_FLAGS, BIN, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: Record<string, unknown>) => void }> = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      stdout.push(line);
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.re.test(String(parsed['msg']))) waiters.splice(i, 1)[0]!.resolve(parsed);
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => stderr.push(...d.toString().split('\n').filter((l) => l !== '')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const waitForLog = (re: RegExp, timeoutMs = 15_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      for (const line of stdout) {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (re.test(String(parsed['msg']))) return resolve(parsed);
        } catch {
          /* not a log line */
        }
      }
      const timer = setTimeout(() => reject(new Error(`no log matching ${re} within ${timeoutMs} ms; stderr: ${stderr.join(' | ')}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then(() => reject(new Error(`member exited before logging ${re}; stderr: ${stderr.join(' | ')}`)));
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const r = await exited;
    clearTimeout(timer);
    return r;
  };
  return { proc, stdout, stderr, exited, waitForLog, stop };
}
