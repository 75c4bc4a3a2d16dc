// docker-compose.yml: valid for docker-compose, built from the compose cluster
// definition, and its member command lines form a working cluster when run as
// local processes (no Docker engine runs here: hostnames become 127.0.0.1 and
// each member gets its own ports and data dir).
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memberArgs, parseClusterDef } from '../../src/cli/cluster-def';
import { call, kvClient, waitHealthy } from '../support/cluster';
import { freePorts } from '../support/ports';
import { BIN, REPO } from '../support/process';
import { requireTool } from '../support/tools';

interface ComposeService { command: string[]; ports: Array<{ published: number; target: number }>; volumes: Array<{ source?: string; target: string } | string> }

const procs: ChildProcess[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ets-compose-'));
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

function composeConfig(bin: string): Record<string, ComposeService> {
  const yaml = execFileSync(bin, ['-f', path.join(REPO, 'docker-compose.yml'), 'config'], { encoding: 'utf8', cwd: REPO });
  // docker-compose (v1) prints only YAML; its own PyYAML turns it into JSON for us.
  const json = execFileSync('python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml, encoding: 'utf8' });
  return (JSON.parse(json) as { services: Record<string, ComposeService> }).services;
}

describe('docker-compose.yml', () => {
  const bin = requireTool('docker-compose');

  it('validates and matches cluster-configs/compose-3.json', () => {
    if (!bin) return;
    const def = parseClusterDef(fs.readFileSync(path.join(REPO, 'cluster-configs', 'compose-3.json'), 'utf8'), 'compose-3.json');
    const services = composeConfig(bin);
    expect(Object.keys(services).sort()).toEqual(def.members.map((m) => m.name).sort());
    for (const m of def.members) {
      const want = memberArgs(def, m, { listenHost: '0.0.0.0' });
      const asEq: string[] = [];
      for (let i = 0; i < want.length; i += 2) asEq.push(`${want[i]}=${want[i + 1]}`);
      expect(services[m.name]!.command).toEqual(asEq);
      expect(services[m.name]!.ports.map((p) => p.target)).toEqual([2379]);
    }
  });

  it('runs its member command lines as a working local cluster', async () => {
    if (!bin) return;
    const services = composeConfig(bin);
    const names = Object.keys(services).sort();
    const ports = await freePorts(names.length * 2);
    const hostPort = new Map<string, { client: number; peer: number }>(names.map((n, i) => [n, { client: ports[2 * i]!, peer: ports[2 * i + 1]! }]));
    const localize = (arg: string, self: string): string =>
      arg
        .replace(/http:\/\/0\.0\.0\.0:2379/g, `http://127.0.0.1:${hostPort.get(self)!.client}`)
        .replace(/http:\/\/0\.0\.0\.0:2380/g, `http://127.0.0.1:${hostPort.get(self)!.peer}`)
        .replace(/http:\/\/([a-z0-9]+):(2379|2380)/g, (_, host: string, port: string) =>
          `http://127.0.0.1:${port === '2379' ? hostPort.get(host)!.client : hostPort.get(host)!.peer}`)
        .replace(/^--data-dir=\/data\//, `--data-dir=${tmp}/`);
    for (const n of names) {
      const args = services[n]!.command.map((a) => localize(a, n));
      procs.push(spawn(process.execPath, [BIN, ...args], { cwd: tmp, stdio: 'ignore' }));
    }
    const endpoints = names.map((n) => `127.0.0.1:${hostPort.get(n)!.client}`);
    await waitHealthy(endpoints);
    await call(kvClient(endpoints[0]!), 'Put', { key: Buffer.from('compose'), value: Buffer.from('ok') });
    const r = await call<{ kvs: Array<{ value: Buffer }> }>(kvClient(endpoints[2]!), 'Range', { key: Buffer.from('compose') });
    expect(r.kvs[0]!.value.toString()).toBe('ok');
    // Each member publishes its name through Raft once a leader exists; wait for all three.
    let listed: string[] = [];
    for (let i = 0; i < 100; i++) {
      const members = await call<{ members: Array<{ name: string }> }>(kvClient(endpoints[1]!, 'Cluster'), 'MemberList', {});
      listed = members.members.map((m) => m.name).sort();
      if (listed.every((n) => n !== '')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed).toEqual(names);
  });
});
