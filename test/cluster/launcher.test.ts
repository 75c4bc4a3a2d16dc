// `npm run cluster`: the launcher starts every member of a definition, prefixes
// their log lines with the member's name, and Ctrl-C (SIGINT) stops them all.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { call, kvClient, waitHealthy } from '../support/cluster';
import { freePorts } from '../support/ports';
import { REPO } from '../support/process';

describe('cluster launcher', () => {
  it('starts the members of a definition with prefixed logs and stops them all on SIGINT', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ets-launcher-'));
    const ports = await freePorts(6);
    const def = {
      token: 'launcher-test',
      host: '127.0.0.1',
      dataRoot: path.join(dir, 'data'),
      members: [0, 1, 2].map((i) => ({ name: `m${i + 1}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! })),
    };
    fs.writeFileSync(path.join(dir, 'def.json'), JSON.stringify(def));
    const p = spawn(process.execPath, [path.join(REPO, 'dist', 'src', 'cli', 'cluster.js'), path.join(dir, 'def.json')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    try {
      const endpoints = def.members.map((m) => `127.0.0.1:${m.clientPort}`);
      await waitHealthy(endpoints);
      await call(kvClient(endpoints[0]!), 'Put', { key: Buffer.from('l'), value: Buffer.from('1') });
      for (const m of def.members) expect(out).toMatch(new RegExp(`^\\[${m.name}\\] \\{`, 'm'));
      p.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const m of def.members) expect(out).toMatch(new RegExp(`^\\[${m.name}\\] exited`, 'm'));
    } finally {
      p.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
