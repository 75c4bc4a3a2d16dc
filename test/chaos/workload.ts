// Client traffic for a chaos run: N concurrent logical clients, each with its own
// etcd3 connection to every endpoint, doing linearizable gets, puts of unique values
// and compare-and-set transactions on a few keys, and recording each operation with
// an honest outcome. The etcd3 client's own retries are switched off: a retried put
// can land twice, which the history could not explain.

import {
  Etcd3,
  EtcdPermissionDeniedError,
  GRPCAlreadyExistsError,
  GRPCFailedPreconditionError,
  GRPCInvalidArgumentError,
  GRPCNotFoundError,
  GRPCNotImplementedError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  type IOptions,
} from 'etcd3';
import { History, type OpKind, type Operation, type Outcome, type PendingOp } from './history';
import { mulberry32, pick, type Rng } from './rng';

export interface WorkloadOptions {
  /** Client URLs of every member, e.g. http://127.0.0.1:42100. */
  endpoints: string[];
  clients: number;
  keys: string[];
  durationMs: number;
  /** gRPC deadline per request; past it the outcome is unknown. */
  opTimeoutMs?: number;
  /** Relative weights of the operation kinds. */
  mix?: Partial<Record<OpKind, number>>;
  seed?: number;
  /** Record into an existing history (so faults and ops share one clock). */
  history?: History;
  /** Stop early. */
  signal?: AbortSignal;
  /**
   * Every this many ms the clients move to a fresh generation of keys
   * (`<key>@<generation>`), so no key's history grows beyond what the checker can
   * search in a long run; unknown writes stay candidates until a key's end.
   */
  keyRotationMs?: number;
  /** Think time after each ok op, per client, to keep the load (and the checker's work) modest. */
  pauseMs?: number;
  /**
   * Negative control (Jepsen's --serializable): member-local reads, which may be
   * stale, so a run with partitions and pauses should be caught by the checker.
   */
  serializableReads?: boolean;
}

export interface WorkloadResult {
  history: History;
  ops: Operation[];
}

/**
 * Rejections that happen before a request could be proposed, or that leave the
 * store untouched when applied (validation, NOSPACE, auth). Matched on the etcd3
 * error class, since the client rewrites gRPC codes into classes.
 */
const CERTAIN_FAILURE_CLASSES: ReadonlyArray<abstract new (...args: never[]) => Error> = [
  GRPCInvalidArgumentError,
  GRPCNotFoundError,
  GRPCAlreadyExistsError,
  EtcdPermissionDeniedError,
  GRPCResourceExhastedError,
  GRPCFailedPreconditionError,
  GRPCOutOfRangeError,
  GRPCNotImplementedError,
  GRPCUnauthenticatedError,
];

/**
 * Unavailable errors that are certain. grpc-js says "No connection established"
 * when the call was never sent; etcd answers "no leader" / "not capable" /
 * "not supported for learner" from its interceptor, before the request reaches
 * raft (etcd-ts must keep that contract; see README.md).
 */
const CERTAIN_FAILURE_TEXT = [
  'No connection established',
  'Channel closed before call started',
  'etcdserver: no leader',
  'etcdserver: not capable',
  'etcdserver: rpc not supported for learner',
];

/**
 * 'fail' only when the request certainly did not take effect; everything else —
 * deadlines, dropped connections, "request timed out", "leader changed",
 * "server stopped", unknown errors — is 'unknown'.
 */
export function classifyError(err: unknown): Exclude<Outcome, 'ok'> {
  if (!(err instanceof Error)) return 'unknown';
  if (CERTAIN_FAILURE_CLASSES.some((c) => err instanceof c)) return 'fail';
  if (CERTAIN_FAILURE_TEXT.some((t) => err.message.includes(t))) return 'fail';
  return 'unknown';
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** A cockatiel-compatible policy that runs the call exactly once. */
const once = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) => Promise.resolve(fn({ signal: new AbortController().signal })),
} as unknown as Policy;

export function makeClient(endpoints: string[], opTimeoutMs: number): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    dialTimeout: opTimeoutMs,
    faultHandling: { host: () => once, global: once },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opTimeoutMs }),
  });
}

/** Races a call against a guard timer, in case a request hangs past its deadline. */
async function guarded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`client-side guard: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

class Client {
  /** Last value this client saw per key: the expected value of its next cas. */
  private readonly seen = new Map<string, string>();
  private seq = 0;

  constructor(
    private process: number,
    private readonly index: number,
    private readonly processStride: number,
    private readonly etcd: Etcd3,
    private readonly history: History,
    private readonly rng: Rng,
    private readonly opts: Required<Pick<WorkloadOptions, 'keys' | 'opTimeoutMs'>> & { weights: Array<[OpKind, number]>; keyOf: (base: string) => string; serializable: boolean },
  ) {}

  private chooseKind(key: string): OpKind {
    const total = this.opts.weights.reduce((s, [, w]) => s + w, 0);
    let r = this.rng() * total;
    let kind: OpKind = 'get';
    for (const [k, w] of this.opts.weights) {
      if (r < w) {
        kind = k;
        break;
      }
      r -= w;
    }
    // Without a value to expect, a cas could only fail; read instead.
    return kind === 'cas' && !this.seen.has(key) ? 'get' : kind;
  }

  /** One operation; returns its outcome so the loop can back off after errors. */
  async step(): Promise<Outcome> {
    const key = this.opts.keyOf(pick(this.rng, this.opts.keys));
    const kind = this.chooseKind(key);
    const value = `c${this.index}-${this.seq++}`;
    const guardMs = this.opts.opTimeoutMs + 1000;
    let op: PendingOp;
    try {
      switch (kind) {
        case 'get': {
          op = this.history.invoke(this.process, key, 'get');
          const got = await guarded(this.etcd.get(key).serializable(this.opts.serializable).string(), guardMs);
          this.history.ok(op, { value: got });
          if (got !== null) this.seen.set(key, got);
          return 'ok';
        }
        case 'put': {
          op = this.history.invoke(this.process, key, 'put', { value });
          await guarded(this.etcd.put(key).value(value).exec(), guardMs);
          this.history.ok(op);
          this.seen.set(key, value);
          return 'ok';
        }
        case 'cas': {
          const expected = this.seen.get(key)!;
          op = this.history.invoke(this.process, key, 'cas', { expected, value });
          const res = await guarded(this.etcd.if(key, 'Value', '==', expected).then(this.etcd.put(key).value(value)).commit(), guardMs);
          this.history.ok(op, { succeeded: res.succeeded });
          if (res.succeeded) this.seen.set(key, value);
          else this.seen.delete(key); // stale; learn the value again
          return 'ok';
        }
      }
    } catch (err) {
      const outcome = classifyError(err);
      this.history.complete(op!, outcome, undefined, err instanceof Error ? err.message : String(err));
      // Jepsen's convention: a process with an op in limbo is gone; continue as a new one.
      if (outcome === 'unknown') this.process += this.processStride;
      this.seen.delete(key);
      return outcome;
    }
  }
}

/** Runs the traffic for `durationMs`, then waits for in-flight ops (bounded by their guards). */
export async function runWorkload(opts: WorkloadOptions): Promise<WorkloadResult> {
  const history = opts.history ?? new History();
  const opTimeoutMs = opts.opTimeoutMs ?? 1000;
  const mix = { get: 4, put: 3, cas: 3, ...opts.mix };
  const weights = (Object.entries(mix) as Array<[OpKind, number]>).filter(([, w]) => w > 0);
  const rng = mulberry32(opts.seed ?? 1);
  const etcds: Etcd3[] = [];
  const began = Date.now();
  const until = began + opts.durationMs;
  const rotation = opts.keyRotationMs;
  const keyOf = rotation === undefined ? (k: string) => k : (k: string) => `${k}@${Math.floor((Date.now() - began) / rotation)}`;
  try {
    const loops: Array<Promise<void>> = [];
    for (let i = 0; i < opts.clients; i++) {
      const etcd = makeClient(opts.endpoints, opTimeoutMs);
      etcds.push(etcd);
      const seed = Math.floor(rng() * 2 ** 32);
      const client = new Client(i, i, opts.clients, etcd, history, mulberry32(seed), { keys: opts.keys, opTimeoutMs, weights, keyOf, serializable: opts.serializableReads ?? false });
      loops.push(
        (async () => {
          while (Date.now() < until && !opts.signal?.aborted) {
            const outcome = await client.step();
            // After an error (often instant: no connection) back off instead of spinning.
            const pause = outcome === 'ok' ? (opts.pauseMs ?? 0) : Math.max(20, opts.pauseMs ?? 0);
            await new Promise((r) => (pause === 0 ? setImmediate(r) : setTimeout(r, pause)));
          }
        })(),
      );
    }
    await Promise.all(loops);
  } finally {
    for (const e of etcds) e.close();
    history.closeOpen();
  }
  return { history, ops: history.operations() };
}

/**
 * One linearizable read of every key after the cluster has healed, recorded in the
 * history. Without it a write acknowledged near the end and then lost would never
 * be contradicted by any read, and the checker could not see the loss.
 */
export async function finalReads(endpoints: string[], keys: readonly string[], history: History, opTimeoutMs = 5000): Promise<Operation[]> {
  const etcd = makeClient(endpoints, opTimeoutMs);
  const process = 1_000_000; // a process id no workload client uses
  const out: Operation[] = [];
  try {
    for (const key of keys) {
      const op = history.invoke(process, key, 'get');
      try {
        out.push(history.ok(op, { value: await guarded(etcd.get(key).string(), opTimeoutMs + 1000) }));
      } catch (err) {
        out.push(history.complete(op, classifyError(err), undefined, err instanceof Error ? err.message : String(err)));
      }
    }
  } finally {
    etcd.close();
  }
  return out;
}
