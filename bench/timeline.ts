// Where one client's put spends its time, member by member:
//   npm run bench:timeline -- [--ops 3000] [--warm 6000] [--port-base 18300]
// Starts a fresh traced 3-member cluster (ETCD_TS_TRACE, see src/trace.ts),
// puts from one client to the leader, stops the members (each writes its
// marks on exit) and prints every mark's median and p90 offset from the
// leader's 'req'. Marks: stream (an HTTP/2 request stream opened), req/resp
// (the leader's gRPC handler got the request / wrote the answer), trailers
// (the answer's status goes out), ready, sent (messages that may leave before
// the disk write), write/written (the LevelDB batch), saved, sent-after-save
// (on a follower: the acknowledgement), applied, recv <MessageType> on every
// peer message, and the client's own (member "C"): call (it starts the next
// put) and reply (it has the whole answer). The client's call and the
// leader's stream for the next put come after this put's answer, so they show
// at the end of its timeline, just before the span closes.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster } from './cluster';
import { runLoad } from './loadgen';
import { buildTimeline, parseTrace, type TraceMark } from './timeline-analysis';

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      ops: { type: 'string', default: '3000' },
      // ~10 s of puts first: V8 is still compiling the put path before that (see compare.ts's WARMUP_S).
      warm: { type: 'string', default: '6000' },
      'port-base': { type: 'string', default: '18300' },
      // The client on a follower instead of the leader: the marks are then placed
      // after that follower's 'req', and the table calls it L (the member with the
      // most requests); the real leader is one of the F rows.
      follower: { type: 'boolean', default: false },
    },
  });
  const ops = Number(v.ops);
  const warm = Number(v.warm);
  const repoRoot = path.resolve(__dirname, '..', '..');
  const dataRoot = path.join(repoRoot, 'tmp', 'bench');
  fs.mkdirSync(dataRoot, { recursive: true });
  const traceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-ts-trace-'));
  // The members inherit it; this process never marks anything.
  process.env.ETCD_TS_TRACE = traceDir;
  const cluster = new Cluster({ system: 'etcd-ts', size: 3, portBase: Number(v['port-base']), dataRoot, repoRoot });
  let client;
  try {
    cluster.start();
    const leader = await cluster.waitHealthy(30_000);
    const target = v.follower ? cluster.endpoints.find((e) => e !== leader)! : leader;
    const base = { endpoints: [target], op: 'put' as const, conns: 1, clients: 1, threads: 1, durationMs: 120_000 };
    if (warm > 0) await runLoad({ ...base, total: warm });
    client = await runLoad({ ...base, total: ops });
  } finally {
    await cluster.stop();
  }
  const marks: TraceMark[] = [];
  for (const f of fs.readdirSync(traceDir)) {
    // trace-<pid>.txt from a member, trace-client-<thread>.txt from the generator's worker.
    const m = /^trace-(client-)?(\d+)\.txt$/.exec(f);
    if (!m) continue;
    const id = m[1] ? -1 - Number(m[2]) : Number(m[2]);
    // A loop, not push(...): a long run's marks overflow the call stack as arguments.
    for (const mk of parseTrace(id, fs.readFileSync(path.join(traceDir, f), 'utf8'))) marks.push(mk);
  }
  fs.rmSync(traceDir, { recursive: true, force: true });
  const tl = buildTimeline(marks, warm);
  const out: string[] = [
    `client: ${client.opsPerSec.toFixed(0)} puts/s, p50 ${client.p50Ms.toFixed(3)} ms, p99 ${client.p99Ms.toFixed(3)} ms`,
    `writes traced: ${tl.writes}; req to next req: p50 ${tl.span.p50.toFixed(0)} µs, p90 ${tl.span.p90.toFixed(0)}, mean ${tl.span.mean.toFixed(0)}`,
    '',
    'member  event             #   p50 µs   p90 µs  in writes',
  ];
  for (const r of tl.rows) {
    out.push(`${r.member.padEnd(7)} ${r.event.padEnd(16)} ${String(r.nth).padStart(2)} ${r.p50.toFixed(0).padStart(8)} ${r.p90.toFixed(0).padStart(8)} ${String(r.count).padStart(10)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`timeline: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
