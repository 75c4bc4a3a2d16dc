// One load-generator thread: opens its share of connections, runs its share of
// closed-loop clients (each waits for its previous reply before sending the next
// request), and records every latency in a local histogram merged later.

import { parentPort, threadId, workerData } from 'node:worker_threads';
import { saveTrace } from '../src/trace';
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram';
import { CompareResult, CompareTarget, clientOn, openChannel, waitReady, type EtcdClient } from './rpc';
import { rawClient } from './rpc-raw';
import { RANGE_PREFIX, keyFor, prefixEnd, type ClientKind, type ControlMessage, type WorkerMessage, type WorkerResult, type WorkerTask } from './task';

const MAX_ERROR_SAMPLES = 5;

// grpc-js captures `new Error()` on every unary call (for the caller stack of a
// possible failure); with the default 10 frames that was ~20 µs of CPU per request
// stolen from the servers on the same cores. Error texts are all we report anyway.
Error.stackTraceLimit = 0;

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
}

const wallNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What one part of a run (the warm-up, or the measured window) counted. */
class Tally {
  readonly hist = new Histogram();
  ops = 0;
  errors = 0;
  conflicts = 0;
  readonly errorSamples: string[] = [];

  constructor(readonly startMs: number) {}

  result(endMs: number): WorkerResult {
    return {
      hist: this.hist.toData(), ops: this.ops, errors: this.errors, errorSamples: this.errorSamples,
      conflicts: this.conflicts, startMs: this.startMs, endMs,
    };
  }
}

class Runner {
  /** Where requests claimed now are counted. */
  private tally = new Tally(0);
  /** The warm-up's tally once measuring started; requests it claimed still land there. */
  private warm: { tally: Tally; endMs: number } | null = null;
  /** During a warm-up: neither the request count nor the deadline applies yet. */
  private warming: boolean;
  private issued = 0;
  private nextSeq: number;
  private readonly value: Buffer;
  private readonly revs: Float64Array | null;
  private readonly rangeKey = Buffer.from(RANGE_PREFIX);
  private readonly rangeEnd = prefixEnd(RANGE_PREFIX);
  private deadline = Infinity;

  constructor(private readonly task: WorkerTask) {
    this.nextSeq = task.seqStart;
    this.value = Buffer.alloc(task.valueSize, 'v');
    this.revs = task.revCache ? new Float64Array(task.revCache) : null;
    this.warming = task.warmup;
  }

  /** Ends the warm-up: the request count and the clock start now. */
  private measure(): void {
    const now = wallNow();
    this.warm = { tally: this.tally, endMs: now };
    this.tally = new Tally(now);
    this.warming = false;
    if (this.task.durationMs > 0) this.deadline = now + this.task.durationMs;
  }

  private randomIndex(): number {
    return Math.floor(Math.random() * this.task.keySpace);
  }

  private key(i: number): Buffer {
    return Buffer.from(keyFor(this.task.prefix, i, this.task.keySize));
  }

  /** Claims the next request slot: the tally it counts in, or null when this worker's share is used up. */
  private claim(): Tally | null {
    if (this.warming) return this.tally;
    if (wallNow() >= this.deadline) return null;
    if (this.task.op === 'populate') return this.nextSeq < this.task.seqEnd ? this.tally : null;
    if (this.issued >= this.task.requests) return null;
    this.issued++;
    return this.tally;
  }

  async runClient(c: EtcdClient): Promise<void> {
    let retryKey = -1; // txn: a conflicted compare-and-put is retried on the same key
    for (let tally = this.claim(); tally !== null; tally = this.claim()) {
      const t0 = performance.now();
      try {
        retryKey = await this.once(c, retryKey);
        tally.hist.record((performance.now() - t0) * 1000);
        tally.ops++;
        if (retryKey >= 0) tally.conflicts++;
      } catch (err) {
        tally.errors++;
        const text = (err as { details?: string }).details || String(err);
        if (tally.errorSamples.length < MAX_ERROR_SAMPLES && !tally.errorSamples.includes(text)) tally.errorSamples.push(text);
        await sleep(10); // don't spin on a dead endpoint
      }
    }
  }

  /** Issues one request; returns the key index to retry next (txn conflicts) or -1. */
  private async once(c: EtcdClient, retryKey: number): Promise<number> {
    const t = this.task;
    switch (t.op) {
      case 'populate': {
        const i = this.nextSeq++;
        const res = await c.put({ key: this.key(i), value: this.value });
        if (this.revs && i < this.revs.length) this.revs[i] = Number(res.header.revision);
        return -1;
      }
      case 'put':
        await this.put(c, this.randomIndex());
        return -1;
      case 'get':
        await c.range({ key: this.key(this.randomIndex()), serializable: t.serializable });
        return -1;
      case 'range': {
        // Read leanly (lean-decode.ts): decoding 1,000 kvs into objects cost the
        // generator more than either server spent answering.
        const r = await c.rangeSummary({ key: this.rangeKey, range_end: this.rangeEnd, serializable: t.serializable });
        if (r.kvs === 0 || r.kvs !== r.count) throw new Error(`range answer holds ${r.kvs} kvs but counts ${r.count}`);
        return -1;
      }
      case 'mixed':
        if (Math.random() < t.getRatio) await c.range({ key: this.key(this.randomIndex()) });
        else await this.put(c, this.randomIndex());
        return -1;
      case 'txn':
        return this.compareAndPut(c, retryKey >= 0 ? retryKey : this.randomIndex());
    }
  }

  /** A plain put that also refreshes the shared mod_revision cache, as a watch-fed
   * cache would, so txn-cas conflicts come from real races and not from which
   * workloads happened to run before it. */
  private async put(c: EtcdClient, i: number): Promise<void> {
    const res = await c.put({ key: this.key(i), value: this.value });
    if (this.revs && i < this.revs.length) this.revs[i] = Number(res.header.revision);
  }

  /** Optimistic update as Kubernetes' GuaranteedUpdate does it: put only if the key's
   * mod_revision is still the one we last saw, else read the current one and retry. */
  private async compareAndPut(c: EtcdClient, i: number): Promise<number> {
    const key = this.key(i);
    const known = this.revs ? this.revs[i] ?? 0 : 0;
    const res = await c.txn({
      compare: [{ result: CompareResult.EQUAL, target: CompareTarget.MOD, key, mod_revision: String(known) }],
      success: [{ request_put: { key, value: this.value } }],
      failure: [{ request_range: { key } }],
    });
    if (res.succeeded) {
      if (this.revs) this.revs[i] = Number(res.header.revision);
      return -1;
    }
    const kv = res.responses[0]?.response_range?.kvs[0];
    if (this.revs) this.revs[i] = kv ? Number(kv.mod_revision) : 0;
    return i;
  }

  /**
   * Runs every client. With a warm-up, measuring starts when `measuring`
   * resolves; requests in flight then still count for the warm-up.
   */
  async run(clients: EtcdClient[], measuring: Promise<void>): Promise<{ result: WorkerResult; warmup: WorkerResult | null }> {
    this.tally = new Tally(wallNow());
    if (this.warming) void measuring.then(() => this.measure());
    else if (this.task.durationMs > 0) this.deadline = this.tally.startMs + this.task.durationMs;
    await Promise.all(Array.from({ length: this.task.clients }, (_, k) => this.runClient(clients[k % clients.length]!)));
    return { result: this.tally.result(wallNow()), warmup: this.warm ? this.warm.tally.result(this.warm.endMs) : null };
  }
}

/** Opens one connection of the requested kind; `ready` resolves once it is up. */
function connect(endpoint: string, kind: ClientKind): { client: EtcdClient; ready: Promise<void> } {
  if (kind === 'raw') return rawClient(endpoint, 10_000);
  const ch = openChannel(endpoint);
  return { client: clientOn(ch, endpoint), ready: waitReady(ch, 10_000) };
}

async function main(): Promise<void> {
  const task = workerData as WorkerTask;
  const conns = task.connEndpoints.map((ep) => connect(ep, task.client));
  const clients = conns.map((c) => c.client);
  try {
    await Promise.all(conns.map((c) => c.ready));
  } catch (err) {
    post({ type: 'failed', error: String(err) });
    clients.forEach((c) => c.close());
    return;
  }
  const runner = new Runner(task);
  // Start (and, after a warm-up, measure) only when the main thread says so, so all workers measure the same window.
  let started = (): void => undefined;
  let measured = (): void => undefined;
  const start = new Promise<void>((resolve) => (started = resolve));
  const measuring = new Promise<void>((resolve) => (measured = resolve));
  parentPort?.on('message', (m: ControlMessage) => (m === 'start' ? started() : measured()));
  post({ type: 'ready' });
  await start;
  const { result, warmup } = await runner.run(clients, measuring);
  parentPort?.removeAllListeners('message');
  clients.forEach((c) => c.close());
  saveTrace(`client-${threadId}`);
  post({ type: 'done', result, warmup });
}

void main();
