// Regression: the duplicate watch event of chaos run seed 1803 (the watcher on
// m3 got r/4@89782 twice). A SIGKILLed member came back with its store a little
// behind what it had served (its last store batch unwritten, its commit index
// relearned from the leader), answered a resumed watch's `created` with that
// older header revision, and the etcd3 client moved its resume point back to it,
// so its next reconnect replayed events it already had. etcd serves clients only
// once a restarted member has applied its own publish entry of this start, whose
// index is above everything committed before; so does etcd-ts now.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { call, kvClient, leaderIndex, RunningCluster, startEtsCluster, waitHealthy } from '../support/cluster';
import { RawWatch } from '../support/watch-client';

let cluster: RunningCluster | undefined;
let frozen: number[] = [];
afterEach(async () => {
  // Never leave a member stopped: continue it before the cluster is torn down.
  for (const i of frozen) cluster?.members[i]?.proc?.kill('SIGCONT');
  frozen = [];
  await cluster?.stop();
  cluster = undefined;
});

/** Waits (bounded) until something accepts TCP connections on the port. */
async function waitListening(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port} within ${timeoutMs} ms`);
}

interface RangeResp { header: { revision: string }; kvs: unknown[] }

describe('a restarted member serves clients only after re-applying its log', () => {
  it('duplicate watch event after restart (chaos seed 1803): no answer from a member that has not caught up', async () => {
    cluster = await startEtsCluster(3);
    const c = cluster;
    const lead = await leaderIndex(c);
    const f = (lead + 1) % 3;
    const kv = kvClient(c.endpoints[lead]!);
    let served = 0;
    for (let i = 0; i < 20; i++) {
      const r = await call<{ header: { revision: string } }>(kv, 'Put', { key: Buffer.from(`w/${i}`), value: Buffer.from(`v${i}`) }, 10_000);
      served = Number(r.header.revision);
    }
    // The follower delivers every event up to `served` to a watcher: it has served that revision.
    const before = new RawWatch(c.endpoints[f]!);
    before.create({ key: Buffer.from('w/'), range_end: Buffer.from('w0'), start_revision: 1 });
    await before.waitFor(() => before.events().some((e) => e[2] === served));
    before.close();

    // Kill it, freeze the others (no quorum), restart it.
    await c.kill(f, 'SIGKILL');
    const others = [0, 1, 2].filter((i) => i !== f);
    for (const i of others) {
      c.members[i]!.proc!.kill('SIGSTOP');
      frozen.push(i);
    }
    c.restart(f);
    await waitListening(c.members[f]!.clientPort);

    // A resumed watch and a serializable read wait: the member cannot yet know
    // how far its log was committed, so it must not answer from its own state.
    const resumed = new RawWatch(c.endpoints[f]!);
    resumed.create({ key: Buffer.from('w/'), range_end: Buffer.from('w0'), start_revision: served + 1 });
    const local = kvClient(c.endpoints[f]!);
    const early = await call<RangeResp>(local, 'Range', { key: Buffer.from('w/0'), serializable: true }, 3000).then(
      (r) => `answered at revision ${r.header.revision}`,
      (e: grpc.ServiceError) => e.code,
    );
    expect(early).toBe(4); // DEADLINE_EXCEEDED
    expect(resumed.replies).toEqual([]);

    // With its peers back it re-applies, publishes, and answers at a revision at
    // least as new as any it had served.
    for (const i of others) c.members[i]!.proc!.kill('SIGCONT');
    frozen = [];
    await resumed.waitReplies(1, 20_000);
    expect(resumed.replies[0]!.created).toBe(true);
    expect(Number(resumed.replies[0]!.header.revision)).toBeGreaterThanOrEqual(served);
    await waitHealthy(c.endpoints);
    const after = await call<RangeResp>(local, 'Range', { key: Buffer.from('w/0'), serializable: true }, 10_000);
    expect(Number(after.header.revision)).toBeGreaterThanOrEqual(served);
    resumed.close();
  });
});
