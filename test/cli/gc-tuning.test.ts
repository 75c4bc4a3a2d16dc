import { describe, expect, it } from 'vitest';
import { heapGrowingFlag, HEAP_GROWING_PERCENT } from '../../src/cli/gc-tuning';

describe('heapGrowingFlag', () => {
  it('asks V8 to grow the heap by a bounded percentage', () => {
    expect(heapGrowingFlag([])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--inspect'])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });

  it("leaves node's own flag alone, in either spelling", () => {
    expect(heapGrowingFlag(['--heap-growing-percent=80'])).toBeNull();
    expect(heapGrowingFlag(['--heap_growing_percent=5'])).toBeNull();
  });
});
