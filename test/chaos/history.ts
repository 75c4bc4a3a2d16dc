// The operation record of a chaos run: what every client asked, what it was told,
// and when. The linearizability checker and the report read nothing else, so the
// record must be honest about doubt: an operation whose fate the client could not
// learn is 'unknown', never 'fail'.

import { performance } from 'node:perf_hooks';

export type OpKind = 'get' | 'put' | 'cas';

/**
 * ok: the client got an answer. fail: certainly not applied (rejected before it
 * could be proposed). unknown: timeout, lost connection, ambiguous error — the
 * write may take effect at any later moment, or never.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** get: nothing. put: value. cas: expected and value (the new value). */
export interface OpInput {
  value?: string;
  expected?: string;
}

/** get: value read (null = key absent). cas: whether the compare held. put: nothing. */
export interface OpOutput {
  value?: string | null;
  succeeded?: boolean;
}

export interface Operation {
  /** Unique within one history, in order of invocation. */
  id: number;
  /** The logical client (Jepsen's "process"); one operation at a time per process. */
  process: number;
  key: string;
  kind: OpKind;
  input: OpInput;
  output?: OpOutput;
  /** Monotonic milliseconds since the history's origin. */
  start: number;
  /** Monotonic ms; for 'unknown' it is when the client gave up, not when it took effect. */
  end: number;
  outcome: Outcome;
  error?: string;
}

/** An invoked operation not yet completed. */
export interface PendingOp {
  readonly id: number;
  readonly process: number;
  readonly key: string;
  readonly kind: OpKind;
  readonly input: OpInput;
  readonly start: number;
}

/** Monotonic clock in ms. Wall-clock time can jump (NTP), which would reorder ops. */
export type Clock = () => number;

/**
 * Collects operations. Invocation and completion are separate calls because the
 * interval between them is what the checker reasons about; the clock is read as
 * close to the network call as the caller can manage.
 */
export class History {
  private readonly ops: Operation[] = [];
  private readonly open = new Map<number, PendingOp>();
  private nextId = 0;
  private readonly origin: number;
  private readonly tally: Record<Outcome, number> = { ok: 0, fail: 0, unknown: 0 };

  constructor(private readonly clock: Clock = () => performance.now()) {
    this.origin = clock();
  }

  /** Milliseconds since this history began. */
  now(): number {
    return this.clock() - this.origin;
  }

  invoke(process: number, key: string, kind: OpKind, input: OpInput = {}): PendingOp {
    const op: PendingOp = { id: this.nextId++, process, key, kind, input, start: this.now() };
    this.open.set(op.id, op);
    return op;
  }

  ok(op: PendingOp, output: OpOutput = {}): Operation {
    return this.complete(op, 'ok', output);
  }

  fail(op: PendingOp, error: string): Operation {
    return this.complete(op, 'fail', undefined, error);
  }

  unknown(op: PendingOp, error: string): Operation {
    return this.complete(op, 'unknown', undefined, error);
  }

  complete(op: PendingOp, outcome: Outcome, output?: OpOutput, error?: string): Operation {
    if (!this.open.delete(op.id)) throw new Error(`operation ${op.id} completed twice or never invoked`);
    const done: Operation = { ...op, end: this.now(), outcome };
    if (output !== undefined) done.output = output;
    if (error !== undefined) done.error = error;
    this.ops.push(done);
    this.tally[outcome]++;
    return done;
  }

  /**
   * Ends the run: anything still in flight becomes 'unknown' (the client never
   * heard back, so the write may yet land).
   */
  closeOpen(reason = 'still in flight at end of run'): void {
    for (const op of [...this.open.values()]) this.unknown(op, reason);
  }

  /** Completed operations by outcome, cheap enough for progress lines. */
  get counts(): Readonly<Record<Outcome, number>> {
    return this.tally;
  }

  get pending(): number {
    return this.open.size;
  }

  /** Completed operations ordered by invocation. */
  operations(): Operation[] {
    return [...this.ops].sort((a, b) => a.start - b.start || a.id - b.id);
  }
}

/** Groups operations by key: a register per key is checked on its own. */
export function byKey(ops: readonly Operation[]): Map<string, Operation[]> {
  const out = new Map<string, Operation[]>();
  for (const op of ops) {
    let list = out.get(op.key);
    if (list === undefined) out.set(op.key, (list = []));
    list.push(op);
  }
  return out;
}

/** One line per operation, for failure messages and logs. */
export function describeOp(op: Operation): string {
  let what: string;
  switch (op.kind) {
    case 'get':
      what = op.output?.value === undefined ? 'get' : `get -> ${JSON.stringify(op.output.value)}`;
      break;
    case 'put':
      what = `put ${JSON.stringify(op.input.value)}`;
      break;
    case 'cas': {
      const res = op.output?.succeeded === undefined ? '' : op.output.succeeded ? ' -> ok' : ' -> compare failed';
      what = `cas ${JSON.stringify(op.input.expected)}=>${JSON.stringify(op.input.value)}${res}`;
      break;
    }
  }
  return `#${op.id} p${op.process} ${op.key} ${what} [${op.outcome}] ${op.start.toFixed(1)}..${op.end.toFixed(1)}ms`;
}
