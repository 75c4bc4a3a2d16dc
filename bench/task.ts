// The contract between the load generator's main thread and its worker threads:
// what one worker must run, and what it reports back. Plain data only, because it
// crosses postMessage.

import type { HistogramData } from './histogram';

/** put: random keys; get: one random key; txn: compare-mod_revision-then-put;
 * range: every key under RANGE_PREFIX; mixed: 90% linearizable get / 10% put;
 * populate: write each key of [seqStart, seqEnd) exactly once (pre-population). */
export type OpKind = 'put' | 'get' | 'txn' | 'range' | 'mixed' | 'populate';

export const KEY_PREFIX = 'k';
export const RANGE_PREFIX = 'r/';

/** grpc-js channels (the default, what Node clients use) or the lean raw-HTTP/2 client. */
export type ClientKind = 'grpc-js' | 'raw';

export interface WorkerTask {
  op: OpKind;
  client: ClientKind;
  /** Range reads only: serve from the local member without a ReadIndex round. */
  serializable: boolean;
  /** One entry per connection this worker opens: the member it talks to. */
  connEndpoints: string[];
  clients: number;
  /** Requests this worker issues in total, after the warm-up (Infinity with durationMs). */
  requests: number;
  durationMs: number;
  /** Run the workload unmeasured until the main thread posts 'measure' (same
   * connections and clients, no pause in between); false = measure from the start. */
  warmup: boolean;
  keySize: number;
  valueSize: number;
  keySpace: number;
  /** Fraction of gets in the mixed workload. */
  getRatio: number;
  /** Key names are prefix + zero-padded index (KEY_PREFIX, or RANGE_PREFIX when populating for range). */
  prefix: string;
  seqStart: number;
  seqEnd: number;
  /** Float64Array over this buffer: last known mod_revision per key index, shared by
   * all workers like a client-side cache (Kubernetes keeps one per resource). */
  revCache: SharedArrayBuffer | null;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'done'; result: WorkerResult; warmup: WorkerResult | null };

/** What the main thread posts: start the run, or (after a warm-up) start measuring. */
export type ControlMessage = 'start' | 'measure';

export interface WorkerResult {
  hist: HistogramData;
  ops: number;
  errors: number;
  errorSamples: string[];
  conflicts: number;
  /** Wall-clock ms (performance.timeOrigin + now), comparable across threads. */
  startMs: number;
  endMs: number;
}

/** Fixed-width key: prefix + zero-padded index, `size` bytes when the index fits. */
export function keyFor(prefix: string, index: number, size: number): string {
  const digits = Math.max(1, size - prefix.length);
  return prefix + String(index).padStart(digits, '0');
}

/** The smallest key greater than every key with this prefix (etcd's prefix range_end). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    const byte = b[i] ?? 0;
    if (byte < 0xff) {
      const end = b.subarray(0, i + 1);
      end[i] = byte + 1;
      return end;
    }
  }
  return Buffer.from([0]); // all 0xff: "to the end of the keyspace"
}
