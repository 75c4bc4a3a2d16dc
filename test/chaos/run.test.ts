// findLostWrites: the end-of-run scan that names acknowledged writes a final read
// contradicts outright. It must never accuse an unknown write, nor a write that
// overlapped the final value's writer (either order was possible).

import { describe, expect, it } from 'vitest';
import type { Operation } from './history';
import { findLostWrites } from './run';

let nextId = 0;
const op = (o: Partial<Operation> & Pick<Operation, 'kind' | 'start' | 'end'>): Operation => ({
  id: nextId++,
  process: 0,
  key: 'k',
  input: {},
  outcome: 'ok',
  ...o,
});
const put = (value: string, start: number, end: number, outcome: Operation['outcome'] = 'ok') => op({ kind: 'put', input: { value }, start, end, outcome });
const read = (value: string | null, at: number) => op({ kind: 'get', output: { value }, start: at, end: at + 1 });

describe('findLostWrites', () => {
  it('accepts a final value written last', () => {
    const ops = [put('a', 0, 1), put('b', 2, 3)];
    expect(findLostWrites(ops, [read('b', 10)])).toEqual([]);
  });

  it('names an ok write that began after the final value was acknowledged', () => {
    const ops = [put('a', 0, 1), put('b', 2, 3)];
    expect(findLostWrites(ops, [read('a', 10)])).toHaveLength(1);
  });

  it('does not accuse writes that overlapped the final writer', () => {
    const ops = [put('a', 0, 5), put('b', 2, 3)];
    expect(findLostWrites(ops, [read('a', 10)])).toEqual([]);
  });

  it('does not accuse unknown writes, and says nothing when the final writer is unknown', () => {
    expect(findLostWrites([put('a', 0, 1), put('b', 2, 3, 'unknown')], [read('a', 10)])).toEqual([]);
    expect(findLostWrites([put('a', 0, 1, 'unknown'), put('b', 2, 3)], [read('a', 10)])).toEqual([]);
  });

  it('names every acknowledged write when the key reads absent', () => {
    expect(findLostWrites([put('a', 0, 1), put('b', 2, 3, 'fail')], [read(null, 10)])).toHaveLength(1);
  });

  it('counts a successful cas as a write and a failed compare as none', () => {
    const cas = (value: string, succeeded: boolean, start: number, end: number) =>
      op({ kind: 'cas', input: { expected: 'a', value }, output: { succeeded }, start, end });
    expect(findLostWrites([put('a', 0, 1), cas('c', false, 2, 3)], [read('a', 10)])).toEqual([]);
    expect(findLostWrites([put('a', 0, 1), cas('c', true, 2, 3)], [read('a', 10)])).toHaveLength(1);
  });
});
