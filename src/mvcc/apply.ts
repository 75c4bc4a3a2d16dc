// Applying Put / DeleteRange / Txn to a WriteTxn, following etcd's apply.go:
// a txn first evaluates every compare (nested ones too) against the state
// before the txn, then checks the ops of the chosen path (leases, ignore_*
// on missing keys, range revisions) before it writes anything, so a failing
// txn changes nothing. Then it runs the ops in order.

import { Errors } from '../errors';
import type { KeyEntry } from './key-index';
import { kvOfEntry, range, toKeyRange, type ReadView } from './reader';
import {
  type Compare,
  CompareResult,
  CompareTarget,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './types';
import type { WriteTxn } from './writer';

export type LeaseExists = (id: bigint) => boolean;

const EMPTY = Buffer.alloc(0);

export function applyPut(tx: WriteTxn, p: PutRequest, leaseExists: LeaseExists | undefined): PutResponse {
  const lease = p.lease ?? 0n;
  if (lease !== 0n && leaseExists && !leaseExists(lease)) throw Errors.LeaseNotFound;
  const key = p.key.toString('latin1');
  const e = tx.index.get(key);
  const live = e !== undefined && e.value !== null ? e : undefined;
  if ((p.ignoreValue || p.ignoreLease) && !live) throw Errors.KeyNotFound;
  const prevKv = p.prevKv && live ? kvOfEntry(live) : undefined;
  const value = p.ignoreValue ? Buffer.from(live!.value!, 'latin1') : (p.value ?? EMPTY);
  tx.put(key, value, p.ignoreLease ? live!.lease : lease);
  const resp: PutResponse = { revision: tx.rev };
  if (prevKv) resp.prevKv = prevKv;
  return resp;
}

export function applyDeleteRange(tx: WriteTxn, d: DeleteRangeRequest): DeleteRangeResponse {
  const kr = toKeyRange(d.key, d.rangeEnd);
  if (!kr) return { revision: tx.rev, deleted: 0, prevKvs: [] };
  const { deleted, prevKvs } = tx.deleteRange(kr, !!d.prevKv);
  return { revision: tx.rev, deleted, prevKvs };
}

/** Outcome of all compares of a txn and of the nested txns on its chosen branch. */
interface TxnPath {
  succeeded: boolean;
  nested: TxnPath[];
}

function comparePath(view: ReadView, t: TxnRequest): TxnPath {
  const succeeded = t.compare.every((c) => compareHolds(view, c));
  const nested: TxnPath[] = [];
  for (const op of succeeded ? t.success : t.failure) {
    if (op.requestTxn) nested.push(comparePath(view, op.requestTxn));
  }
  return { succeeded, nested };
}

/** Every live key of the compare's range must satisfy it; no key: VALUE fails, others compare to zero. */
export function compareHolds(view: ReadView, c: Compare): boolean {
  const kr = toKeyRange(c.key, c.rangeEnd);
  let any = false;
  let ok = true;
  const check = (e: KeyEntry): boolean => {
    if (e.value === null) return true;
    any = true;
    if (!compareEntry(c, e)) ok = false;
    return ok;
  };
  if (kr?.single) {
    const e = view.index.get(kr.start);
    if (e) check(e);
  } else if (kr) {
    view.index.forEachInRange(kr.start, kr.end, check);
  }
  if (!any) return c.target === CompareTarget.VALUE ? false : compareEntry(c, undefined);
  return ok;
}

function compareEntry(c: Compare, e: KeyEntry | undefined): boolean {
  let r: number;
  switch (c.target) {
    case CompareTarget.VALUE:
      // Latin1 strings compare char by char, which is byte order.
      r = order(e?.value ?? '', c.value ? c.value.toString('latin1') : '');
      break;
    case CompareTarget.CREATE:
      r = Math.sign((e?.createRevision ?? 0) - (c.createRevision ?? 0));
      break;
    case CompareTarget.MOD:
      r = Math.sign((e?.modRevision ?? 0) - (c.modRevision ?? 0));
      break;
    case CompareTarget.VERSION:
      r = Math.sign((e?.version ?? 0) - (c.version ?? 0));
      break;
    case CompareTarget.LEASE:
      r = order(e?.lease ?? 0n, c.lease ?? 0n);
      break;
    default:
      return false;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return r === 0;
    case CompareResult.NOT_EQUAL:
      return r !== 0;
    case CompareResult.GREATER:
      return r > 0;
    case CompareResult.LESS:
      return r < 0;
    default:
      return true;
  }
}

/** etcd's checkRequests: refuse the txn before any write if an op on the chosen path would fail. */
function checkPath(view: ReadView, t: TxnRequest, path: TxnPath, leaseExists: LeaseExists | undefined): void {
  let n = 0;
  for (const op of path.succeeded ? t.success : t.failure) {
    if (op.requestPut) {
      const p = op.requestPut;
      if (p.ignoreValue || p.ignoreLease) {
        const e = view.index.get(p.key.toString('latin1'));
        if (!e || e.value === null) throw Errors.KeyNotFound;
      }
      const lease = p.lease ?? 0n;
      if (lease !== 0n && leaseExists && !leaseExists(lease)) throw Errors.LeaseNotFound;
    } else if (op.requestRange) {
      const rev = op.requestRange.revision ?? 0;
      if (rev !== 0) {
        if (rev > view.rev) throw Errors.FutureRev;
        if (rev < view.compactRev) throw Errors.Compacted;
      }
    } else if (op.requestTxn) {
      checkPath(view, op.requestTxn, path.nested[n++]!, leaseExists);
    }
  }
}

export function applyTxn(tx: WriteTxn, t: TxnRequest, leaseExists: LeaseExists | undefined): TxnResponse {
  const path = comparePath(tx, t);
  checkPath(tx, t, path, leaseExists);
  const resp = runPath(tx, t, path, leaseExists);
  resp.revision = tx.rev;
  return resp;
}

/** Runs the chosen branch. A nested txn's own header revision stays 0, as etcd 3.4 answers. */
function runPath(tx: WriteTxn, t: TxnRequest, path: TxnPath, leaseExists: LeaseExists | undefined): TxnResponse {
  const responses: ResponseOp[] = [];
  let n = 0;
  for (const op of path.succeeded ? t.success : t.failure) responses.push(runOp(tx, op));
  return { revision: 0, succeeded: path.succeeded, responses };

  function runOp(tx: WriteTxn, op: RequestOp): ResponseOp {
    if (op.requestRange) return { responseRange: range(tx, op.requestRange) };
    if (op.requestPut) return { responsePut: applyPut(tx, op.requestPut, leaseExists) };
    if (op.requestDeleteRange) return { responseDeleteRange: applyDeleteRange(tx, op.requestDeleteRange) };
    if (op.requestTxn) return { responseTxn: runPath(tx, op.requestTxn, path.nested[n++]!, leaseExists) };
    throw Errors.KeyNotFound;
  }
}

/** -1, 0 or 1 for two strings (latin1: byte order) or two bigints. */
function order<T extends string | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
