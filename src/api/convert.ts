// Protobuf messages (as decoded by proto-loader: snake_case, int64 as decimal
// strings, enums as names) <-> the MVCC store's internal requests and results.
// Kept free of I/O so it can be tested on its own.
import type * as pb from './pb';
import * as mvcc from '../mvcc/types';
import { latin1Bytes } from '../mvcc/reader';

const num = (s: string | number | undefined | null): number => (s === undefined || s === null || s === '' ? 0 : Number(s));
const big = (s: string | number | undefined | null): bigint => (s === undefined || s === null || s === '' ? 0n : BigInt(s));
const buf = (b: Buffer | undefined | null): Buffer => b ?? EMPTY;
const EMPTY = Buffer.alloc(0);

function enumValue<E extends Record<string, string | number>>(e: E, name: string | undefined | null): number {
  if (name === undefined || name === null) return 0;
  const v = (e as Record<string, string | number>)[name];
  // proto-loader decodes unknown enum numbers to the number itself.
  return typeof v === 'number' ? v : Number(name);
}

export function rangeFromPb(r: pb.RangeRequest__Output): mvcc.RangeRequest {
  return {
    key: buf(r.key),
    rangeEnd: buf(r.range_end),
    limit: num(r.limit),
    revision: num(r.revision),
    sortOrder: enumValue(mvcc.SortOrder, r.sort_order),
    sortTarget: enumValue(mvcc.SortTarget, r.sort_target),
    serializable: r.serializable,
    keysOnly: r.keys_only,
    countOnly: r.count_only,
    minModRevision: num(r.min_mod_revision),
    maxModRevision: num(r.max_mod_revision),
    minCreateRevision: num(r.min_create_revision),
    maxCreateRevision: num(r.max_create_revision),
  };
}

export function putFromPb(r: pb.PutRequest__Output): mvcc.PutRequest {
  return {
    key: buf(r.key),
    value: buf(r.value),
    lease: big(r.lease),
    prevKv: r.prev_kv,
    ignoreValue: r.ignore_value,
    ignoreLease: r.ignore_lease,
  };
}

export function deleteRangeFromPb(r: pb.DeleteRangeRequest__Output): mvcc.DeleteRangeRequest {
  return { key: buf(r.key), rangeEnd: buf(r.range_end), prevKv: r.prev_kv };
}

function compareFromPb(c: pb.Compare__Output): mvcc.Compare {
  const out: mvcc.Compare = {
    result: enumValue(mvcc.CompareResult, c.result),
    target: enumValue(mvcc.CompareTarget, c.target),
    key: buf(c.key),
    rangeEnd: buf(c.range_end),
  };
  switch (c.target_union) {
    case 'version': out.version = num(c.version); break;
    case 'create_revision': out.createRevision = num(c.create_revision); break;
    case 'mod_revision': out.modRevision = num(c.mod_revision); break;
    case 'value': out.value = buf(c.value); break;
    case 'lease': out.lease = big(c.lease); break;
    default: break;
  }
  return out;
}

function requestOpFromPb(op: pb.RequestOp__Output): mvcc.RequestOp {
  switch (op.request) {
    case 'request_range': return { requestRange: rangeFromPb(op.request_range!) };
    case 'request_put': return { requestPut: putFromPb(op.request_put!) };
    case 'request_delete_range': return { requestDeleteRange: deleteRangeFromPb(op.request_delete_range!) };
    case 'request_txn': return { requestTxn: txnFromPb(op.request_txn!) };
    default: return {};
  }
}

export function txnFromPb(t: pb.TxnRequest__Output): mvcc.TxnRequest {
  return {
    compare: t.compare.map(compareFromPb),
    success: t.success.map(requestOpFromPb),
    failure: t.failure.map(requestOpFromPb),
  };
}

export function kvToPb(kv: mvcc.KeyValue): pb.KeyValue {
  return {
    key: latin1Bytes(kv.key),
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: latin1Bytes(kv.value),
    lease: kv.lease.toString(),
  };
}

export type Header = pb.ResponseHeader;

export function rangeToPb(r: mvcc.RangeResponse, header: Header): pb.RangeResponse {
  return { header, kvs: r.kvs.map(kvToPb), more: r.more, count: r.count };
}

export function putToPb(r: mvcc.PutResponse, header: Header): pb.PutResponse {
  return r.prevKv ? { header, prev_kv: kvToPb(r.prevKv) } : { header };
}

export function deleteRangeToPb(r: mvcc.DeleteRangeResponse, header: Header): pb.DeleteRangeResponse {
  return { header, deleted: r.deleted, prev_kvs: r.prevKvs.map(kvToPb) };
}

/**
 * Like etcd, the responses inside a txn carry a header of their own holding only
 * the revision, and a nested txn's own header is left empty.
 */
export function txnToPb(r: mvcc.TxnResponse, header: Header): pb.TxnResponse {
  const inner: Header = { cluster_id: 0, member_id: 0, revision: header.revision ?? 0, raft_term: 0 };
  return { header, succeeded: r.succeeded, responses: r.responses.map((op) => responseOpToPb(op, inner)) };
}

const EMPTY_HEADER: Header = { cluster_id: 0, member_id: 0, revision: 0, raft_term: 0 };

function responseOpToPb(op: mvcc.ResponseOp, inner: Header): pb.ResponseOp {
  if (op.responseRange) return { response_range: rangeToPb(op.responseRange, inner) };
  if (op.responsePut) return { response_put: putToPb(op.responsePut, inner) };
  if (op.responseDeleteRange) return { response_delete_range: deleteRangeToPb(op.responseDeleteRange, inner) };
  const t = op.responseTxn!;
  return { response_txn: { header: EMPTY_HEADER, succeeded: t.succeeded, responses: t.responses.map((o) => responseOpToPb(o, inner)) } };
}
