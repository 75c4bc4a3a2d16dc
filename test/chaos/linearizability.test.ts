import { describe, expect, it } from 'vitest';
import type { Operation, Outcome } from './history';
import { checkHistory } from './linearizability';
import { mulberry32, pick, randInt } from './rng';

let nextId = 0;
function op(
  process: number,
  start: number,
  end: number,
  kind: Operation['kind'],
  args: { value?: string | null; expected?: string; succeeded?: boolean; outcome?: Outcome; key?: string },
): Operation {
  const o: Operation = { id: nextId++, process, key: args.key ?? 'k', kind, input: {}, start, end, outcome: args.outcome ?? 'ok' };
  if (kind === 'get') {
    if (o.outcome === 'ok') o.output = { value: args.value ?? null };
  } else {
    o.input.value = args.value ?? undefined;
    if (kind === 'cas') {
      o.input.expected = args.expected;
      if (o.outcome === 'ok') o.output = { succeeded: args.succeeded ?? true };
    }
  }
  return o;
}
const get = (p: number, s: number, e: number, value: string | null, outcome: Outcome = 'ok') => op(p, s, e, 'get', { value, outcome });
const put = (p: number, s: number, e: number, value: string, outcome: Outcome = 'ok') => op(p, s, e, 'put', { value, outcome });
const cas = (p: number, s: number, e: number, expected: string, value: string, succeeded: boolean, outcome: Outcome = 'ok') =>
  op(p, s, e, 'cas', { expected, value, succeeded, outcome });

describe('linearizability checker: hand-made histories', () => {
  it('accepts a sequential history', () => {
    const h = [get(0, 0, 1, null), put(0, 2, 3, 'a'), get(1, 4, 5, 'a'), cas(0, 6, 7, 'a', 'b', true), cas(1, 8, 9, 'a', 'c', false), get(0, 10, 11, 'b')];
    expect(checkHistory(h).verdict).toBe('ok');
  });

  it('reports a stale read', () => {
    const h = [put(0, 0, 1, 'a'), put(0, 2, 3, 'b'), get(1, 4, 5, 'a')];
    const r = checkHistory(h);
    expect(r.verdict).toBe('violation');
    const ex = r.keys[0]!.explanation!;
    expect(ex.stuck.id).toBe(h[2]!.id);
    expect(ex.state).toBe('b');
    expect(ex.message).toContain('get -> "a"');
  });

  it('explains a violation without unknown writes that only add noise', () => {
    const h = [put(0, 0, 2, 'a'), put(1, 3, 5, 'b'), put(2, 6, 7, 'c', 'unknown'), get(3, 7, 10, 'a')];
    const ex = checkHistory(h).keys[0]!.explanation!;
    expect(ex.lastLinearized.map((l) => l.op.input.value)).toEqual(['a', 'b']);
    expect(ex.state).toBe('b');
    expect(ex.pending.map((p) => p.id)).toEqual([h[2]!.id, h[3]!.id]);
  });

  it('reports a lost acknowledged write', () => {
    // put b was acknowledged, yet later reads see the older value a, and then nothing.
    const h = [put(0, 0, 1, 'a'), put(1, 2, 3, 'b'), get(2, 5, 6, 'a'), get(2, 7, 8, 'a')];
    expect(checkHistory(h).verdict).toBe('violation');
    const lost = [put(0, 0, 1, 'a'), get(1, 2, 3, null)];
    expect(checkHistory(lost).verdict).toBe('violation');
  });

  it('reports two successful CAS from the same expected value', () => {
    const h = [put(0, 0, 1, 'a'), cas(1, 2, 6, 'a', 'b', true), cas(2, 3, 7, 'a', 'c', true)];
    expect(checkHistory(h).verdict).toBe('violation');
    // ...but one success and one compare failure is fine.
    const fine = [put(0, 0, 1, 'a'), cas(1, 2, 6, 'a', 'b', true), cas(2, 3, 7, 'a', 'c', false), get(0, 8, 9, 'b')];
    expect(checkHistory(fine).verdict).toBe('ok');
  });

  it('reports a CAS that claims failure although the compare held', () => {
    const h = [put(0, 0, 1, 'a'), cas(1, 2, 3, 'a', 'b', false)];
    expect(checkHistory(h).verdict).toBe('violation');
  });

  it('never lets a CAS succeed on a missing key', () => {
    expect(checkHistory([cas(0, 0, 1, 'x', 'y', true)]).verdict).toBe('violation');
  });

  it('accepts concurrent overlapping operations in either order', () => {
    const h = [
      put(0, 0, 10, 'a'),
      put(1, 1, 9, 'b'),
      get(2, 2, 3, null), // before both writes
      get(3, 4, 12, 'a'), // after a, before b
      get(4, 11, 13, 'b'), // b last
      get(2, 14, 15, 'b'),
    ];
    expect(checkHistory(h).verdict).toBe('ok');
  });

  it('treats touching intervals as concurrent', () => {
    expect(checkHistory([get(0, 0, 5, 'a'), put(1, 5, 6, 'a')]).verdict).toBe('ok');
  });

  it('lets an unknown write take effect long after the client gave up', () => {
    const h = [put(0, 0, 1, 'a'), put(1, 2, 3, 'late', 'unknown'), get(2, 10, 11, 'a'), get(2, 50, 51, 'late'), get(2, 60, 61, 'late')];
    expect(checkHistory(h).verdict).toBe('ok');
  });

  it('lets an unknown write never take effect', () => {
    const h = [put(0, 0, 1, 'a'), put(1, 2, 3, 'lost', 'unknown'), cas(1, 4, 5, 'a', 'c', false, 'unknown'), get(2, 10, 11, 'a'), get(2, 50, 51, 'a')];
    expect(checkHistory(h).verdict).toBe('ok');
  });

  it('does not let an unknown write take effect before it was invoked', () => {
    const h = [put(0, 0, 1, 'a'), get(2, 2, 3, 'late'), put(1, 4, 5, 'late', 'unknown')];
    expect(checkHistory(h).verdict).toBe('violation');
  });

  it('does not let an unknown write take effect twice', () => {
    const h = [put(1, 0, 1, 'x', 'unknown'), get(0, 2, 3, 'x'), put(0, 4, 5, 'y'), get(0, 6, 7, 'x')];
    expect(checkHistory(h).verdict).toBe('violation');
  });

  it('applies an unknown CAS only when its compare holds', () => {
    const ok = [put(0, 0, 1, 'a'), cas(1, 2, 3, 'a', 'b', false, 'unknown'), get(0, 9, 10, 'b')];
    expect(checkHistory(ok).verdict).toBe('ok');
    const bad = [put(0, 0, 1, 'a'), cas(1, 2, 3, 'z', 'b', false, 'unknown'), get(0, 9, 10, 'b')];
    expect(checkHistory(bad).verdict).toBe('violation');
  });

  it('drops failed operations and unknown reads', () => {
    const h = [put(0, 0, 1, 'a'), put(1, 2, 3, 'never', 'fail'), get(2, 4, 5, 'garbage', 'unknown'), get(0, 6, 7, 'a')];
    expect(checkHistory(h).verdict).toBe('ok');
    // A failed write that nevertheless shows up is a violation.
    const seen = [put(0, 0, 1, 'a'), put(1, 2, 3, 'never', 'fail'), get(0, 6, 7, 'never')];
    expect(checkHistory(seen).verdict).toBe('violation');
  });

  it('checks keys independently and reports per key', () => {
    const h = [
      op(0, 0, 1, 'put', { key: 'x', value: 'a' }),
      op(0, 2, 3, 'put', { key: 'y', value: 'a' }),
      op(1, 4, 5, 'get', { key: 'x', value: 'a' }),
      op(1, 6, 7, 'get', { key: 'y', value: null }),
    ];
    const r = checkHistory(h);
    expect(r.verdict).toBe('violation');
    expect(r.keys.map((k) => [k.key, k.verdict])).toEqual([
      ['x', 'ok'],
      ['y', 'violation'],
    ]);
  });

  it('says undecided, never ok, when the search exceeds its budget', () => {
    const h: Operation[] = [];
    for (let i = 0; i < 40; i++) h.push(put(i, 0, 100, `v${i}`, 'unknown'), get(100 + i, 1, 100, `v${(i * 7) % 40}`));
    h.push(get(200, 101, 102, 'v3'));
    const r = checkHistory(h, { maxSteps: 50 });
    expect(r.verdict).toBe('undecided');
    expect(r.keys[0]!.reason).toContain('budget');
  });
});

/**
 * Runs a real sequential register and wraps each step's instant in a random
 * interval around it, so the history is linearizable by construction. Unknown
 * writes either take effect at their instant (possibly after the client gave up)
 * or never; failed writes never do.
 */
function generate(seed: number, n: number): Operation[] {
  const rng = mulberry32(seed);
  const ops: Operation[] = [];
  let state: string | null = null;
  const written: string[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += 0.1 + rng() * 3;
    const start = t - rng() * 10;
    const end = t + rng() * 10;
    const p = randInt(rng, 0, 5);
    const r = rng();
    if (r < 0.4) {
      ops.push(get(p, start, end, state));
      continue;
    }
    const value = `v${seed}-${i}`;
    const fate = rng();
    const outcome: Outcome = fate < 0.1 ? 'unknown' : fate < 0.15 ? 'fail' : 'ok';
    const applied = outcome === 'ok' || (outcome === 'unknown' && rng() < 0.5);
    // An unknown op's client may have given up before the op took effect.
    const shownEnd = outcome === 'unknown' ? start + rng() * (end - start) : end;
    if (r < 0.7) {
      if (applied) state = value;
      ops.push(put(p, start, shownEnd, value, outcome));
    } else {
      const expected = state !== null && rng() < 0.6 ? state : written.length > 0 && rng() < 0.7 ? pick(rng, written) : 'nothing';
      const holds = state !== null && state === expected;
      if (applied && holds) state = value;
      ops.push(cas(p, start, shownEnd, expected, value, holds, outcome));
    }
    written.push(value);
  }
  return ops;
}

describe('linearizability checker: randomized histories', () => {
  const seeds = Array.from({ length: 150 }, (_, i) => i + 1);

  it('accepts every history produced by a real register', () => {
    for (const seed of seeds) {
      const r = checkHistory(generate(seed, 60));
      expect(r.verdict, `seed ${seed}`).toBe('ok');
    }
  });

  it('reports a read of a value that was never written', () => {
    for (const seed of seeds) {
      const h = generate(seed, 60);
      const reads = h.filter((o) => o.kind === 'get');
      const victim = pick(mulberry32(seed * 31), reads);
      victim.output = { value: 'never-written' };
      const r = checkHistory(h);
      expect(r.verdict, `seed ${seed}`).toBe('violation');
      expect(r.keys[0]!.explanation!.stuck.id, `seed ${seed}`).toBe(victim.id);
    }
  });

  it('reports a read of a value whose only write began after the read returned', () => {
    let mutated = 0;
    for (const seed of seeds) {
      const h = generate(seed, 60);
      const rng = mulberry32(seed * 17);
      // Values are unique per write, so the value cannot be in the register before that write began.
      const candidates = h.filter((o) => o.kind === 'get' && h.some((w) => w.kind !== 'get' && w.outcome !== 'fail' && w.start > o.end));
      if (candidates.length === 0) continue;
      const victim = pick(rng, candidates);
      const future = pick(rng, h.filter((w) => w.kind !== 'get' && w.outcome !== 'fail' && w.start > victim.end));
      victim.output = { value: future.input.value! };
      expect(checkHistory(h).verdict, `seed ${seed}`).toBe('violation');
      mutated++;
    }
    expect(mutated).toBeGreaterThan(100);
  });
});
