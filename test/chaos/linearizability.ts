// Linearizability checker for a register with compare-and-set, one register per key
// (P-compositionality: a history is linearizable iff each key's sub-history is).
// The search is Wing & Gong's, with Lowe's memoization, as in Porcupine: entries
// sorted by time in a linked list, linearized calls lifted out, and every
// (set of linearized ops, register value) visited once.

import { byKey, describeOp, type Operation } from './history';

export type Verdict = 'ok' | 'violation' | 'undecided';

/** Register value; null = the key does not exist. */
type State = string | null;

export interface Explanation {
  /** The last operations of the longest linearization found, with the value after each. */
  lastLinearized: Array<{ op: Operation; stateAfter: State }>;
  /** Register value at the point where the search got stuck. */
  state: State;
  /** An operation that returned, yet no order lets it take effect before its return. */
  stuck: Operation;
  /** Not-yet-linearized operations invoked before `stuck` returned: the candidates that were tried. */
  pending: Operation[];
  message: string;
}

export interface KeyResult {
  key: string;
  verdict: Verdict;
  /** Operations the search considered (failed ops and unknown gets are dropped). */
  ops: number;
  steps: number;
  explanation?: Explanation;
  /** Why the search stopped early, for 'undecided'. */
  reason?: string;
}

export interface CheckResult {
  verdict: Verdict;
  keys: KeyResult[];
}

export interface CheckOptions {
  /** Search steps per key before giving up with 'undecided'. Deterministic, so tests use it. */
  maxSteps?: number;
  /** Wall-clock budget per key in ms, for real runs. */
  timeLimitMs?: number;
}

const DEFAULT_MAX_STEPS = 20_000_000;

export function checkHistory(ops: readonly Operation[], opts: CheckOptions = {}): CheckResult {
  const keys: KeyResult[] = [];
  const grouped = [...byKey(ops)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, keyOps] of grouped) keys.push(checkKey(key, keyOps, opts));
  const verdict: Verdict = keys.some((k) => k.verdict === 'violation')
    ? 'violation'
    : keys.some((k) => k.verdict === 'undecided')
      ? 'undecided'
      : 'ok';
  return { verdict, keys };
}

/**
 * The register model. An unknown-outcome cas that is linearized applies only if its
 * compare holds; otherwise it behaves as a failed compare (no change), which is as
 * good as never happening.
 */
function step(state: State, op: Operation): { ok: boolean; next: State } {
  switch (op.kind) {
    case 'get':
      return { ok: op.output?.value === state, next: state };
    case 'put':
      return { ok: true, next: op.input.value ?? null };
    case 'cas': {
      // etcd: a value compare on a missing key always fails, so null never matches.
      const holds = state !== null && state === op.input.expected;
      if (op.outcome === 'unknown') return { ok: true, next: holds ? (op.input.value ?? null) : state };
      if (op.output?.succeeded === true) return { ok: holds, next: holds ? (op.input.value ?? null) : state };
      return { ok: !holds, next: state };
    }
  }
}

/** Failed ops never happened; an unknown get tells nothing; an ok get without a value is unusable. */
function relevant(op: Operation): boolean {
  if (op.outcome === 'fail') return false;
  if (op.kind === 'get') return op.outcome === 'ok' && op.output?.value !== undefined;
  if (op.kind === 'cas' && op.outcome === 'ok') return op.output?.succeeded !== undefined;
  return true;
}

interface Entry {
  isCall: boolean;
  /** Index into the key's op list. */
  op: number;
  time: number;
  prev: Entry | null;
  next: Entry | null;
  /** call -> its return. */
  match: Entry | null;
}

/**
 * Builds the doubly linked list headed by a sentinel. Unknown writes return at
 * +infinity: they may take effect any time after invocation, and since all their
 * returns sort last, reaching one means every acknowledged op is placed and the
 * rest can be "never happened".
 */
function buildList(ops: readonly Operation[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    const ret: Entry = { isCall: false, op: i, time: op.outcome === 'unknown' ? Infinity : op.end, prev: null, next: null, match: null };
    const call: Entry = { isCall: true, op: i, time: op.start, prev: null, next: null, match: ret };
    entries.push(call, ret);
  });
  // Equal times: calls first, so touching intervals count as concurrent (never a false alarm).
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { isCall: false, op: -1, time: -Infinity, prev: null, next: null, match: null };
  let last = head;
  for (const e of entries) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Exact inverse of lift; must be applied in reverse order of lifts. */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/** Memo of visited (linearized set, state) pairs, bucketed by a Zobrist hash of the set. */
class Cache {
  private readonly buckets = new Map<number, Array<{ bits: Uint32Array; state: State }>>();

  /** Adds the pair; false if it was already there. */
  add(hash: number, bits: Uint32Array, state: State): boolean {
    let bucket = this.buckets.get(hash);
    if (bucket === undefined) this.buckets.set(hash, (bucket = []));
    for (const e of bucket) if (e.state === state && equalBits(e.bits, bits)) return false;
    bucket.push({ bits: bits.slice(), state });
    return true;
  }
}

function equalBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function stateHash(s: State): number {
  if (s === null) return 0x9e3779b9;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Deterministic per-op random words for Zobrist hashing (xorshift). */
function zobrist(n: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out;
}

export function checkKey(key: string, allOps: readonly Operation[], opts: CheckOptions = {}): KeyResult {
  const ops = allOps.filter(relevant);
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const deadline = opts.timeLimitMs === undefined ? Infinity : Date.now() + opts.timeLimitMs;
  const head = buildList(ops);
  const z = zobrist(ops.length);
  const bits = new Uint32Array((ops.length + 31) >>> 5);
  const cache = new Cache();
  const calls: Array<{ entry: Entry; prevState: State }> = [];
  let setHash = 0;
  let state: State = null;
  let entry = head.next;
  let steps = 0;
  // The explanation comes from the deepest dead end, counting acknowledged ops and
  // preferring fewer unknown ones: an unknown write placed just to fail is noise.
  let known = 0;
  let best: { score: number; explanation?: Explanation } = { score: -Infinity };

  while (entry !== null) {
    if (++steps > maxSteps) return undecided(key, ops.length, steps, `over the budget of ${maxSteps} steps`);
    if ((steps & 0xfff) === 0 && Date.now() > deadline) {
      return undecided(key, ops.length, steps, `over the time limit of ${opts.timeLimitMs} ms`);
    }
    if (entry.isCall) {
      const op = ops[entry.op]!;
      const r = step(state, op);
      if (r.ok) {
        const i = entry.op;
        bits[i >>> 5]! |= 1 << (i & 31);
        const h = (setHash ^ z[i]! ^ stateHash(r.next)) >>> 0;
        if (cache.add(h, bits, r.next)) {
          calls.push({ entry, prevState: state });
          if (op.outcome !== 'unknown') known++;
          setHash ^= z[i]!;
          state = r.next;
          lift(entry);
          entry = head.next;
          continue;
        }
        bits[i >>> 5]! &= ~(1 << (i & 31));
      }
      entry = entry.next;
      continue;
    }
    // A return entry: its op must already be linearized, which it is not.
    if (entry.time === Infinity) return { key, verdict: 'ok', ops: ops.length, steps };
    const score = known * (ops.length + 1) - (calls.length - known);
    if (score > best.score) best = { score, explanation: explain(ops, calls, state, entry, head) };
    const top = calls.pop();
    if (top === undefined) break;
    state = top.prevState;
    const i = top.entry.op;
    if (ops[i]!.outcome !== 'unknown') known--;
    bits[i >>> 5]! &= ~(1 << (i & 31));
    setHash ^= z[i]!;
    unlift(top.entry);
    entry = top.entry.next;
  }
  if (entry === null) return { key, verdict: 'ok', ops: ops.length, steps };
  const res: KeyResult = { key, verdict: 'violation', ops: ops.length, steps };
  if (best.explanation) res.explanation = best.explanation;
  return res;
}

function undecided(key: string, ops: number, steps: number, reason: string): KeyResult {
  return { key, verdict: 'undecided', ops, steps, reason };
}

const TAIL = 6;

function explain(
  ops: readonly Operation[],
  calls: ReadonlyArray<{ entry: Entry; prevState: State }>,
  state: State,
  stuckReturn: Entry,
  head: Entry,
): Explanation {
  const lastLinearized = calls.slice(-TAIL).map((c, k, arr) => ({
    op: ops[c.entry.op]!,
    stateAfter: k + 1 < arr.length ? arr[k + 1]!.prevState : state,
  }));
  const pending: Operation[] = [];
  for (let e = head.next; e !== null && e !== stuckReturn; e = e.next) if (e.isCall) pending.push(ops[e.op]!);
  const stuck = ops[stuckReturn.op]!;
  const lines = [
    `no linearization of key ${JSON.stringify(stuck.key)} explains ${describeOp(stuck)}`,
    `longest linearization found (${calls.length} ops) ends with:`,
    ...lastLinearized.map((l) => `  ${describeOp(l.op)}  => ${JSON.stringify(l.stateAfter)}`),
    `register then holds ${JSON.stringify(state)}; no order of the pending ops lets the stuck one return in time:`,
    ...pending.map((p) => `  ${describeOp(p)}`),
  ];
  return { lastLinearized, state, stuck, pending, message: lines.join('\n') };
}
