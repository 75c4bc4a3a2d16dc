// Seeded pseudo-random numbers for the Raft core and its simulation. Determinism is
// the point: the same seed must give the same election timeouts and the same fault
// schedule, so a failing run can be replayed exactly.

/** A generator of uniform numbers in [0, 1). */
export type Rand = () => number;

/** mulberry32: 32 bits of state, fast, good enough for timeouts and fault injection. */
export function mulberry32(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randInt(rand: Rand, n: number): number {
  return Math.floor(rand() * n);
}
