// The load generator's warm-up (bench/loadgen.ts warmupMs, `load.js --warmup`):
// the same connections run unmeasured first, then exactly the requested count
// is measured, and the two are reported apart. Runs the compiled CLI (its
// worker threads load dist/bench/worker.js) against a real one-member etcd-ts.

import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kvClient, startEtsCluster, type RunningCluster } from '../support/cluster';
import { REPO } from '../support/process';

const run = promisify(execFile);
const LOAD = path.join(REPO, 'dist', 'bench', 'load.js');

interface Summary {
  ops: number;
  errors: number;
  elapsedS: number;
  warmup?: { ops: number; errors: number; elapsedS: number };
}

let cluster: RunningCluster;

beforeAll(async () => {
  cluster = await startEtsCluster(1);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

async function load(args: string[]): Promise<Summary> {
  const { stdout } = await run(process.execPath, [LOAD, '--endpoints', cluster.endpoints[0]!, ...args], { timeout: 60_000 });
  return JSON.parse(stdout) as Summary;
}

async function revision(): Promise<number> {
  const r = await call<{ header: { revision: string } }>(kvClient(cluster.endpoints[0]!), 'Range', { key: Buffer.from('k') });
  return Number(r.header.revision);
}

describe('load generator warm-up', () => {
  it('measures exactly the requested count after an unmeasured warm-up on the same clients', async () => {
    const before = await revision();
    const r = await load(['--workload', 'put', '--conns', '2', '--clients', '4', '--total', '200', '--warmup', '0.5', '--threads', '2']);
    const after = await revision();
    expect(r.errors).toBe(0);
    expect(r.ops).toBe(200);
    expect(r.warmup).toBeDefined();
    expect(r.warmup!.errors).toBe(0);
    expect(r.warmup!.ops).toBeGreaterThan(0);
    // The warm-up ran for about its 0.5 s, not the measured window's length.
    expect(r.warmup!.elapsedS).toBeGreaterThan(0.4);
    expect(r.warmup!.elapsedS).toBeLessThan(5);
    // Every put of both parts reached the server, each one revision.
    expect(after - before).toBe(r.ops + r.warmup!.ops);
  }, 60_000);

  it('has no warm-up part without --warmup', async () => {
    const r = await load(['--workload', 'get', '--total', '50']);
    expect(r.ops).toBe(50);
    expect(r.warmup).toBeUndefined();
  }, 60_000);
});
