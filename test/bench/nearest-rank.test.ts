import { describe, expect, it } from 'vitest';
import { nearestRank } from '../../bench/nearest-rank';

describe('nearestRank', () => {
  it('picks the sample at floor(q * n), capped at the last', () => {
    const s = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(nearestRank(s, 0)).toBe(10);
    expect(nearestRank(s, 0.5)).toBe(60);
    expect(nearestRank(s, 0.9)).toBe(100);
    expect(nearestRank(s, 0.99)).toBe(100);
    expect(nearestRank(s, 1)).toBe(100);
  });

  it('reads typed arrays as well', () => {
    expect(nearestRank(Float64Array.from([1.5, 2.5, 3.5]), 0.5)).toBe(2.5);
  });

  it('is NaN for no samples rather than a made-up zero', () => {
    expect(nearestRank([], 0.5)).toBeNaN();
  });
});
