import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { heapGrowingFlag, HEAP_GROWING_PERCENT, MEMBER_NODE_FLAGS } from '../../src/cli/gc-tuning';

describe('heapGrowingFlag', () => {
  it('asks V8 to grow the heap by a bounded percentage', () => {
    expect(heapGrowingFlag([])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--inspect'])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });

  it("leaves node's own flag alone, in either spelling", () => {
    expect(heapGrowingFlag(['--heap-growing-percent=80'])).toBeNull();
    expect(heapGrowingFlag(['--heap_growing_percent=5'])).toBeNull();
  });
});

describe('MEMBER_NODE_FLAGS', () => {
  // The flags size V8's heap at startup, so every way of starting a member must
  // carry them: the #! line, npm start, the container, and the launchers
  // (which import the constant).
  const root = path.resolve(__dirname, '..', '..');
  const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

  it('are on every command line that starts a member outside the launchers', () => {
    const shebang = read('bin/etcd-ts.js').split('\n')[0]!;
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start']!;
    const entrypoint = read('Dockerfile').split('\n').find((l) => l.startsWith('ENTRYPOINT'))!;
    for (const flag of MEMBER_NODE_FLAGS) {
      expect(shebang).toContain(flag);
      expect(start.slice(0, start.indexOf(' bin/etcd-ts.js'))).toContain(` ${flag}`);
      expect(start.startsWith('node ')).toBe(true);
      expect(entrypoint).toContain(`"${flag}"`);
    }
  });

  it('take effect: a member started by bin/etcd-ts.js runs with them', () => {
    const out = execFileSync(path.join(root, 'bin', 'etcd-ts.js'), ['--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(out).toContain('etcd-ts Version');
    // node accepts them (an unknown or malformed V8 flag would stop it here).
    const flags = execFileSync(process.execPath, [...MEMBER_NODE_FLAGS, '-p', 'JSON.stringify(process.execArgv)'], { encoding: 'utf8' });
    for (const flag of MEMBER_NODE_FLAGS) expect(JSON.parse(flags) as string[]).toContain(flag);
  });
});
