// The key index on its own, at a size where leaves split (the model test
// stays inside one leaf): order, range visits and live counts against brute force.

import { describe, expect, it } from 'vitest';
import { KeyEntry, KeyIndex } from '../../src/mvcc/key-index';
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

  it('a key entry answers the same in every storage form of its revisions (random appends, rollbacks, compactions)', () => {
    const r = rng(11);
    for (let round = 0; round < 300; round++) {
      const e = new KeyEntry('k');
      const model: number[] = [];
      let main = 1;
      for (let step = 0; step < 12; step++) {
        const x = r();
        if (x < 0.55 || model.length === 0) {
          main += 1 + Math.floor(r() * 3);
          // mostly sub 0 (the compact form), sometimes a later sub or a tombstone
          const sub = r() < 0.7 ? 0 : r() < 0.5 ? Math.floor(r() * 4) : -1 - Math.floor(r() * 3);
          e.addRev(main, sub);
          model.push(main, sub);
        } else if (x < 0.75) {
          const len = 2 * Math.floor(r() * (model.length / 2 + 1));
          e.truncateRevs(len);
          model.length = Math.min(model.length, len);
        } else {
          const cut = 2 * Math.floor(r() * (model.length / 2 + 1));
          e.dropRevs(cut);
          model.splice(0, cut);
        }
        expect(e.revsLength).toBe(model.length);
        for (let o = 0; o < model.length; o += 2) {
          expect(e.mainAt(o)).toBe(model[o]);
          expect(e.subAt(o)).toBe(model[o + 1]);
        }
        expect(e.modRevision).toBe(model.length ? model[model.length - 2] : 0);
        for (let rev = 0; rev <= main + 1; rev++) {
          let o = -1;
          for (let i = 0; i < model.length; i += 2) if (model[i]! <= rev) o = i;
          expect(e.offsetAt(rev)).toBe(o);
          expect(e.liveAt(rev)).toBe(o >= 0 && model[o + 1]! >= 0);
        }
      }
    }
  });
});
