// The key index on its own, at a size where leaves split (the model test
// stays inside one leaf): order, range visits and live counts against brute force.

import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../src/mvcc/key-index';
import { rng } from './crash-workload';

describe('key index', () => {
  it('keeps keys sorted and live counts right through inserts, liveness flips and removals', () => {
    const r = rng(7);
    const idx = new KeyIndex();
    const live = new Map<string, boolean>();
    const key = () => String.fromCharCode(...Array.from({ length: 1 + Math.floor(r() * 3) }, () => 97 + Math.floor(r() * 20)));
    const V = 'v';
    for (let step = 0; step < 20_000; step++) {
      const k = key();
      const x = r();
      if (x < 0.6) {
        const e = idx.getOrCreate(k);
        if (e.value === null) {
          idx.liveChanged(e, 1);
          e.value = V;
        }
        live.set(k, true);
      } else if (x < 0.85) {
        const e = idx.get(k);
        if (e && e.value !== null) {
          idx.liveChanged(e, -1);
          e.value = null;
          live.set(k, false);
        }
      } else {
        const e = idx.get(k);
        if (e && e.value === null) {
          idx.remove(k);
          live.delete(k);
        }
      }
      if (step % 500 === 0) {
        const all = [...live.keys()].sort();
        const seen: string[] = [];
        idx.forEachInRange('', undefined, (e) => void seen.push(e.key));
        expect(seen).toEqual(all);
        for (let q = 0; q < 20; q++) {
          const a = key();
          const b = r() < 0.2 ? undefined : key();
          const want = all.filter((k2) => k2 >= a && (b === undefined || k2 < b) && live.get(k2)).length;
          expect(idx.countLive(a, b), `[${a}, ${b})`).toBe(want);
        }
      }
    }
    expect(idx.size).toBe(live.size);
    expect(idx.size).toBeGreaterThan(2000); // several leaves
  });
});
