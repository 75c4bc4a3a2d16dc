// Key-range permissions as etcd's range permission cache decides them.
import { describe, expect, it } from 'vitest';
import { permits, READ, READWRITE, WRITE, type Permission } from '../../src/auth/range-perm';

const b = (s: string): Buffer => Buffer.from(s);
const perm = (permType: number, key: string, rangeEnd = ''): Permission => ({ permType, key: b(key), rangeEnd: b(rangeEnd) });

describe('permits', () => {
  it('covers a key by a point, a range or an open range, for the right type', () => {
    const perms = [perm(READ, 'a'), perm(WRITE, 'b', 'd'), perm(READWRITE, 'x', '\0')];
    expect(permits(perms, READ, b('a'), b(''))).toBe(true);
    expect(permits(perms, WRITE, b('a'), b(''))).toBe(false);
    expect(permits(perms, WRITE, b('c'), b(''))).toBe(true);
    expect(permits(perms, WRITE, b('d'), b(''))).toBe(false);
    expect(permits(perms, READ, b('zzz'), b(''))).toBe(true);
    expect(permits(perms, WRITE, b('x'), b('\0'))).toBe(true);
    expect(permits(perms, READ, b('w'), b('\0'))).toBe(false);
  });

  it('needs the whole range inside the union of the granted ones', () => {
    const perms = [perm(READ, 'a', 'c'), perm(READ, 'c', 'e'), perm(READ, 'f', 'g')];
    expect(permits(perms, READ, b('a'), b('e'))).toBe(true);
    expect(permits(perms, READ, b('b'), b('d'))).toBe(true);
    expect(permits(perms, READ, b('a'), b('f'))).toBe(false);
    expect(permits(perms, READ, b('a'), b('\0'))).toBe(false);
    // A point permission covers exactly its key: [k, k + "\0").
    expect(permits([perm(READ, 'k')], READ, b('k'), b('k\0'))).toBe(true);
    expect(permits([perm(READ, 'k')], READ, b('k'), b('l'))).toBe(false);
    expect(permits([], READ, b('k'), b(''))).toBe(false);
  });
});
