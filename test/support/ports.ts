// Free loopback ports for tests that start servers. Each vitest worker takes
// ports from its own block (by VITEST_POOL_ID), below Linux's ephemeral range,
// so two test files running at once can never be handed the same port between
// the moment it is found free and the moment a member binds it. A run outside
// vitest (npm run chaos, chaos:failover) has a block of its own: its members
// restart on the ports they were given, and a test run meanwhile must not take
// a killed member's port while it is down.
import * as net from 'node:net';

const BLOCK = 1500;
const FIRST = 20_000;
const STANDALONE_BASE = 16_000;
const poolEnv = process.env['VITEST_POOL_ID'] ?? process.env['VITEST_WORKER_ID'];
const pool = Number(poolEnv ?? '1');
const base =
  poolEnv === undefined ? STANDALONE_BASE : FIRST + ((Number.isFinite(pool) && pool > 0 ? pool - 1 : 0) % 8) * BLOCK;
let cursor = 0;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return freePortLayout([0]);
}

export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort());
  return out;
}

/**
 * A base port such that base + each offset is free, for harnesses that lay
 * their members out from one base (bench/cluster.ts: clients at base+i, peers
 * at base+10+i). All of them are handed out.
 */
export async function freePortLayout(offsets: number[]): Promise<number> {
  const span = Math.max(...offsets);
  for (let attempt = 0; attempt < BLOCK; attempt++) {
    const first = base + (cursor++ % (BLOCK - span));
    const ports = offsets.map((o) => first + o);
    if (ports.some((p) => handedOut.has(p))) continue;
    let free = true;
    for (const p of ports) if (!(await canListen(p))) free = false;
    if (!free) continue;
    for (const p of ports) handedOut.add(p);
    return first;
  }
  throw new Error(`no free ports at offsets ${offsets.join(',')} in ${base}..${base + BLOCK - 1}`);
}
