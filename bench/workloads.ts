// The workloads compared between etcd-ts and etcd. Shapes follow etcd's own
// benchmark tool and op-guide (8-byte keys, 256-byte values, clients sharing
// connections), so the etcd column can be sanity-checked against published runs.

import type { OpKind } from './task';

export interface Workload {
  name: string;
  title: string;
  op: OpKind;
  serializable?: boolean;
  conns: number;
  clients: number;
  /** Requests in a full run; --quick divides it, --total replaces it. */
  total: number;
  /** Needs the pre-populated key space (and the mod_revision cache for txn). */
  needsKeys: boolean;
  /** Needs the 1,000 keys under RANGE_PREFIX. */
  needsRangeKeys?: boolean;
}

export const WORKLOADS: Workload[] = [
  // 10,000 rather than 3,000: a 3,000-put window lasts 3-4 s, and three runs of the
  // same code put its ratio anywhere in 0.81-1.03 with the box's drift.
  { name: 'put-1', title: 'put, 1 client / 1 conn', op: 'put', conns: 1, clients: 1, total: 10_000, needsKeys: false },
  { name: 'put-100', title: 'put, 100 clients / 10 conns', op: 'put', conns: 10, clients: 100, total: 30_000, needsKeys: false },
  { name: 'put-1000', title: 'put, 1000 clients / 100 conns', op: 'put', conns: 100, clients: 1000, total: 40_000, needsKeys: false },
  { name: 'get-lin', title: 'linearizable get, 100 clients', op: 'get', conns: 10, clients: 100, total: 40_000, needsKeys: true },
  { name: 'get-ser', title: 'serializable get, 100 clients', op: 'get', serializable: true, conns: 10, clients: 100, total: 40_000, needsKeys: true },
  // Compare-and-put as Kubernetes' GuaranteedUpdate: If(mod_revision == cached) Then(put) Else(get).
  { name: 'txn-cas', title: 'txn compare-mod-rev-and-put, 100 clients', op: 'txn', conns: 10, clients: 100, total: 30_000, needsKeys: true },
  // 5,000 rather than 1,500: at 250-620 ranges/s a 1,500-range window lasted
  // 2.4-5.9 s, and the leader column's ratio swung from 0.87 to 1.43.
  { name: 'range-1000', title: 'range of 1,000 keys, 10 clients', op: 'range', conns: 2, clients: 10, total: 5000, needsKeys: false, needsRangeKeys: true },
  { name: 'mixed', title: '90% get / 10% put, 100 clients', op: 'mixed', conns: 10, clients: 100, total: 40_000, needsKeys: true },
];

/** Keys loaded before the read workloads; the memory row is read right after. */
export const POPULATE_KEYS = 100_000;
export const RANGE_KEYS = 1000;
export const QUICK_DIVISOR = 10;

export type Target = 'leader' | 'all';
export const TARGETS: Target[] = ['leader', 'all'];

/** Selects workloads by --only (comma-separated names; "memory" selects none of these). */
export function selectWorkloads(only: string | undefined): Workload[] {
  if (!only) return WORKLOADS;
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  // "memory" and "watch" are rows of their own, not request workloads.
  const unknown = names.filter((n) => n !== 'memory' && n !== 'watch' && !WORKLOADS.some((w) => w.name === n));
  if (unknown.length) throw new Error(`unknown workload(s) ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.name).join(', ')}, memory, watch`);
  return WORKLOADS.filter((w) => names.includes(w.name));
}
