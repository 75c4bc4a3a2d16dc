// Plumbing shared by the semantics tables: a fresh store per test and
// short-hands that number Raft entries as they go.

import { afterEach, beforeEach, expect } from 'vitest';
import { EtcdError } from '../../src/errors';
import type { MvccStore } from '../../src/mvcc';
import { StoreHarness, b } from './helpers';

/** The store under test and the last Raft index used; fresh for every test. */
export const ctx = { h: undefined as unknown as StoreHarness, s: undefined as unknown as MvccStore, idx: 0 };
export const next = () => ++ctx.idx;
export const put = (k: string, v = 'v', extra: object = {}) => ctx.s.put({ key: b(k), value: b(v), ...extra }, ++ctx.idx);
export const del = (k: string, end?: string, prevKv = false) =>
  ctx.s.deleteRange({ key: b(k), ...(end !== undefined ? { rangeEnd: b(end) } : {}), prevKv }, ++ctx.idx);
export const get = (k: string, end?: string, extra: object = {}) =>
  ctx.s.range({ key: b(k), ...(end !== undefined ? { rangeEnd: b(end) } : {}), ...extra });

/** Asserts the exact shared error (same code and text as etcd). */
export function expectErr(f: () => unknown, e: EtcdError): void {
  let thrown: unknown;
  try {
    f();
  } catch (x) {
    thrown = x;
  }
  expect(thrown).toBeInstanceOf(EtcdError);
  expect((thrown as EtcdError).code).toBe(e.code);
  expect((thrown as EtcdError).message).toBe(e.message);
}

/** Registers the per-test store lifecycle in the calling test file. */
export function useFreshStore(): void {
  beforeEach(async () => {
    ctx.h = new StoreHarness();
    ctx.s = await ctx.h.open();
    ctx.idx = 0;
  });
  afterEach(async () => ctx.h.dispose());
}

