// Stand-alone load generator CLI, for poking one running cluster by hand:
//   node dist/bench/load.js --endpoints http://127.0.0.1:2379 --workload put --conns 10 --clients 100 [--client raw]
// The comparison runner (compare.ts) uses the same runLoad() underneath.

import { parseArgs } from 'node:util';
import { runLoad } from './loadgen';
import { statusOf } from './rpc';
import type { OpKind } from './task';

const OPS: OpKind[] = ['put', 'get', 'txn', 'range', 'mixed', 'populate'];

async function findLeader(endpoints: string[]): Promise<string> {
  for (const ep of endpoints) {
    const s = await statusOf(ep).catch(() => null);
    if (s && s.leader === s.header.member_id) return ep;
  }
  throw new Error('no endpoint reports itself as leader');
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      endpoints: { type: 'string', default: 'http://127.0.0.1:2379' },
      workload: { type: 'string', default: 'put' },
      conns: { type: 'string', default: '1' },
      clients: { type: 'string', default: '1' },
      'key-size': { type: 'string', default: '8' },
      'val-size': { type: 'string', default: '256' },
      'key-space': { type: 'string', default: '100000' },
      total: { type: 'string', default: '10000' },
      duration: { type: 'string', default: '0' },
      /** Seconds of unmeasured load first, on the same connections (the JSON's "warmup"). */
      warmup: { type: 'string', default: '0' },
      target: { type: 'string', default: 'leader' },
      serializable: { type: 'boolean', default: false },
      threads: { type: 'string' },
      client: { type: 'string', default: 'grpc-js' },
      /** Key prefix (populate the range workload's keys with --prefix r/ --key-space 1000). */
      prefix: { type: 'string' },
    },
  });
  const op = v.workload as OpKind;
  if (!OPS.includes(op)) throw new Error(`--workload must be one of ${OPS.join(', ')}`);
  const all = v.endpoints.split(',').filter(Boolean);
  const endpoints = v.target === 'all' ? all : [await findLeader(all)];
  const keySpace = Number(v['key-space']);
  const r = await runLoad({
    endpoints, op, serializable: v.serializable, client: v.client === 'raw' ? 'raw' : 'grpc-js',
    // --duration alone means "run for that long": no request limit.
    conns: Number(v.conns), clients: Number(v.clients), total: Number(v.duration) > 0 ? 0 : Number(v.total),
    durationMs: Number(v.duration) * 1000, keySize: Number(v['key-size']), valueSize: Number(v['val-size']),
    keySpace, seqStart: 0, seqEnd: op === 'populate' ? keySpace : 0,
    warmupMs: Number(v.warmup) * 1000,
    ...(v.threads ? { threads: Number(v.threads) } : {}),
    ...(v.prefix ? { prefix: v.prefix } : {}),
  });
  process.stdout.write(`${JSON.stringify({ endpoints, ...r }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${(err as Error).message}\n`);
  process.exit(1);
});
