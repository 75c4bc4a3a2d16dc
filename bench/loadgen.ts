// The load generator's main thread: splits connections, clients and requests over
// worker threads, starts them together once every connection is up, and merges
// their histograms into one result.

import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Histogram } from './histogram';
import { KEY_PREFIX, type ClientKind, type OpKind, type WorkerMessage, type WorkerResult, type WorkerTask } from './task';

export interface LoadOptions {
  /** Members to talk to; connection j goes to endpoints[j % length] (etcd's benchmark does the same). */
  endpoints: string[];
  op: OpKind;
  /** Default grpc-js. */
  client?: ClientKind;
  serializable?: boolean;
  conns: number;
  clients: number;
  /** Total requests (0 = no limit; populate writes seqEnd - seqStart instead). */
  total: number;
  /** Stop after this long even if requests remain (0 = no limit); a slow server
   * must not turn a fixed-count phase into an hour. */
  durationMs?: number;
  keySize?: number;
  valueSize?: number;
  keySpace?: number;
  getRatio?: number;
  prefix?: string;
  seqStart?: number;
  seqEnd?: number;
  revCache?: SharedArrayBuffer | null;
  /** Worker threads; default one per core, never more than connections. */
  threads?: number;
  /** Run the workload this long unmeasured first, on the same connections and
   * clients, then measure without a pause (0 = no warm-up). Not for populate. */
  warmupMs?: number;
  /** Called the moment measuring starts (after the warm-up, or at once), e.g. to read the servers' CPU. */
  onMeasure?: () => void;
}

export interface LoadResult {
  ops: number;
  errors: number;
  errorSamples: string[];
  conflicts: number;
  elapsedS: number;
  opsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU the load generator itself burnt per request (all threads): on a shared
   * 2-core box this is CPU the servers did not get. */
  genCpuUsPerOp: number;
  /** CPU all members together burnt per request; filled in by the caller, who knows the pids. */
  serverCpuUsPerOp?: number;
  /** The warm-up before the measured window (LoadOptions.warmupMs): a cold server's figures. */
  warmup?: LoadResult;
}

/** Splits `n` into `parts` near-equal integers (larger ones first). */
export function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (o.endpoints.length === 0) throw new Error('no endpoints');
  const warmupMs = o.op === 'populate' ? 0 : o.warmupMs ?? 0;
  const clients = Math.max(1, o.clients);
  const conns = Math.max(1, Math.min(o.conns, clients)); // a connection without clients is idle
  const threads = Math.max(1, Math.min(o.threads ?? os.availableParallelism(), conns));
  const connsPer = split(conns, threads);
  // Clients follow connections, so each connection carries about clients/conns streams.
  let connsBefore = 0;
  const clientsPer = connsPer.map((c) => {
    const from = Math.round((clients * connsBefore) / conns);
    connsBefore += c;
    return Math.round((clients * connsBefore) / conns) - from;
  });
  const seqStart = o.seqStart ?? 0;
  const seqEnd = o.seqEnd ?? 0;
  const populateSplit = split(seqEnd - seqStart, threads);
  let connIndex = 0;
  let seq = seqStart;
  const tasks: WorkerTask[] = connsPer.map((nConns, w) => {
    const connEndpoints = Array.from({ length: nConns }, () => o.endpoints[connIndex++ % o.endpoints.length]!);
    const share = populateSplit[w] ?? 0;
    const task: WorkerTask = {
      op: o.op,
      client: o.client ?? 'grpc-js',
      serializable: o.serializable ?? false,
      connEndpoints,
      clients: clientsPer[w] ?? 1,
      requests: o.total > 0 ? Math.round((o.total * (clientsPer[w] ?? 0)) / clients) : Infinity,
      durationMs: o.durationMs ?? 0,
      keySize: o.keySize ?? 8,
      valueSize: o.valueSize ?? 256,
      keySpace: o.keySpace ?? 100_000,
      getRatio: o.getRatio ?? 0.9,
      prefix: o.prefix ?? KEY_PREFIX,
      seqStart: seq,
      seqEnd: seq + share,
      revCache: o.revCache ?? null,
      warmup: warmupMs > 0,
    };
    seq += share;
    return task;
  });
  const { results, cpuUs, warmups, warmupCpuUs } = await runWorkers(tasks, warmupMs, o.onMeasure);
  const merged = mergeResults(results);
  merged.genCpuUsPerOp = merged.ops ? cpuUs / merged.ops : 0;
  if (warmups.length > 0) {
    const warm = mergeResults(warmups);
    warm.genCpuUsPerOp = warm.ops ? warmupCpuUs / warm.ops : 0;
    merged.warmup = warm;
  }
  return merged;
}

interface WorkersDone {
  results: WorkerResult[];
  /** CPU µs the whole process (all threads) used while measuring, i.e. without
   * thread start-up, proto parsing and the warm-up. */
  cpuUs: number;
  warmups: WorkerResult[];
  warmupCpuUs: number;
}

/** Runs the workers: all start on one signal and, after `warmupMs`, start measuring on another. */
function runWorkers(tasks: WorkerTask[], warmupMs: number, onMeasure?: () => void): Promise<WorkersDone> {
  const script = path.join(__dirname, 'worker.js');
  // A larger young generation halves scavenge work: grpc-js allocates a lot per call.
  const workers = tasks.map((t) => new Worker(script, { workerData: t, resourceLimits: { maxYoungGenerationSizeMb: 64 } }));
  let ready = 0;
  const results: WorkerResult[] = [];
  const warmups: WorkerResult[] = [];
  let cpuAtStart = process.cpuUsage();
  let warmupCpuUs = 0;
  let timer: NodeJS.Timeout | undefined;
  const measure = (): void => {
    const cpu = process.cpuUsage(cpuAtStart);
    warmupCpuUs = cpu.user + cpu.system;
    cpuAtStart = process.cpuUsage();
    onMeasure?.();
    workers.forEach((x) => x.postMessage('measure'));
  };
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      if (timer) clearTimeout(timer);
      workers.forEach((w) => void w.terminate());
      reject(err);
    };
    for (const w of workers) {
      w.on('error', fail);
      w.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'failed') fail(new Error(msg.error));
        else if (msg.type === 'ready' && ++ready === workers.length) {
          cpuAtStart = process.cpuUsage();
          workers.forEach((x) => x.postMessage('start'));
          if (warmupMs > 0) timer = setTimeout(measure, warmupMs);
          else onMeasure?.();
        }
        else if (msg.type === 'done') {
          results.push(msg.result);
          if (msg.warmup) warmups.push(msg.warmup);
          if (results.length === workers.length) {
            const cpu = process.cpuUsage(cpuAtStart);
            workers.forEach((x) => void x.terminate());
            resolve({ results, cpuUs: cpu.user + cpu.system, warmups, warmupCpuUs });
          }
        }
      });
    }
  });
}

export function mergeResults(results: WorkerResult[]): LoadResult {
  const hist = new Histogram();
  let ops = 0, errors = 0, conflicts = 0;
  const errorSamples: string[] = [];
  let start = Infinity, end = 0;
  for (const r of results) {
    hist.merge(r.hist);
    ops += r.ops;
    errors += r.errors;
    conflicts += r.conflicts;
    for (const e of r.errorSamples) if (errorSamples.length < 5 && !errorSamples.includes(e)) errorSamples.push(e);
    start = Math.min(start, r.startMs);
    end = Math.max(end, r.endMs);
  }
  const elapsedS = Math.max(1e-9, (end - start) / 1000);
  return {
    ops, errors, errorSamples, conflicts, elapsedS,
    opsPerSec: ops / elapsedS,
    meanMs: hist.meanUs() / 1000,
    p50Ms: hist.percentile(50) / 1000,
    p99Ms: hist.percentile(99) / 1000,
    maxMs: hist.maxUs / 1000,
    genCpuUsPerOp: 0,
  };
}
