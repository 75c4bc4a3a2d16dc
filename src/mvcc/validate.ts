// Checks the API layer runs before proposing a request, as etcd's v3rpc/key.go
// does: a request that fails here never reaches Raft. Pure functions; each
// throws the shared EtcdError or returns.

import { Errors } from '../errors';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types';

export const DEFAULT_MAX_TXN_OPS = 128;

export function validateRange(r: RangeRequest): void {
  if (!r.key || r.key.length === 0) throw Errors.EmptyKey;
}

export function validatePut(r: PutRequest): void {
  if (!r.key || r.key.length === 0) throw Errors.EmptyKey;
  if (r.ignoreValue && r.value && r.value.length !== 0) throw Errors.ValueProvided;
  if (r.ignoreLease && r.lease !== undefined && r.lease !== 0n) throw Errors.LeaseProvided;
}

export function validateDeleteRange(r: DeleteRangeRequest): void {
  if (!r.key || r.key.length === 0) throw Errors.EmptyKey;
}

/** Full txn validation: shape and budget first, then put/delete overlaps (etcd's order). */
export function validateTxn(r: TxnRequest, maxTxnOps: number = DEFAULT_MAX_TXN_OPS): void {
  checkTxnShape(r, maxTxnOps);
  // After the shape check, so a huge txn is refused before the quadratic part.
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

function checkTxnShape(r: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw Errors.TooManyOps;
  for (const c of r.compare) if (!c.key || c.key.length === 0) throw Errors.EmptyKey;
  // Nested txns spend the budget left over by this level, as etcd.
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if (op.requestRange) return validateRange(op.requestRange);
  if (op.requestPut) return validatePut(op.requestPut);
  if (op.requestDeleteRange) return validateDeleteRange(op.requestDeleteRange);
  if (op.requestTxn) return checkTxnShape(op.requestTxn, maxTxnOps);
  throw Errors.KeyNotFound; // an empty RequestOp
}

/**
 * Byte-string interval [begin, end) where end '' means +infinity, like etcd's
 * adt.StringAffineInterval. Note that a range_end of "\0" is taken literally
 * here (not as "all keys >= key"), exactly as etcd 3.4 does in this check.
 */
interface Interval {
  begin: string;
  end: string;
}

function cmpAffine(a: string, b: string): number {
  if (a === '') return b === '' ? 0 : 1;
  if (b === '') return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function intersects(dels: Interval[], point: string): boolean {
  const p: Interval = { begin: point, end: point + '\0' };
  for (const d of dels) {
    if (cmpAffine(d.begin, p.end) < 0 && cmpAffine(p.begin, d.end) < 0) return true;
  }
  return false;
}

/**
 * etcd's checkIntervals: two puts to one key, or a put inside a delete range,
 * in one branch (nested txns included) is a duplicate. The then/else branches
 * of a nested txn may put the same key, since only one of them runs.
 */
function checkIntervals(reqs: RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of reqs) {
    const d = op.requestDeleteRange;
    if (!d) continue;
    const begin = d.key.toString('latin1');
    dels.push(
      d.rangeEnd && d.rangeEnd.length
        ? { begin, end: d.rangeEnd.toString('latin1') }
        : { begin, end: begin + '\0' },
    );
  }
  const puts = new Set<string>();
  for (const op of reqs) {
    const t = op.requestTxn;
    if (!t) continue;
    const thenSide = checkIntervals(t.success);
    const elseSide = checkIntervals(t.failure);
    for (const k of thenSide.puts) {
      if (puts.has(k) || intersects(dels, k)) throw Errors.DuplicateKey;
      puts.add(k);
    }
    for (const k of elseSide.puts) {
      if (puts.has(k) && !thenSide.puts.has(k)) throw Errors.DuplicateKey;
      if (intersects(dels, k)) throw Errors.DuplicateKey;
      puts.add(k);
    }
    dels.push(...thenSide.dels, ...elseSide.dels);
  }
  for (const op of reqs) {
    const p = op.requestPut;
    if (!p) continue;
    const k = p.key.toString('latin1');
    if (puts.has(k) || intersects(dels, k)) throw Errors.DuplicateKey;
    puts.add(k);
  }
  return { puts, dels };
}
