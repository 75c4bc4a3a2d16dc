// Hand-written protobuf encoders for the KV service's answers, the hottest
// bytes the server writes. The generic route (plain object -> protobufjs
// fromObject, which parses every int64 from a decimal string, -> encode) cost
// more CPU per 1,000-key range than the range itself. Here each answer is
// sized, then written straight from the store's objects when grpc-js asks.
// Field numbers are etcd's (proto/rpc.proto, proto/kv.proto); zero-valued
// scalars are left out (pb-writer.ts). Messages that are present but empty (a
// nested txn's header) stay present.

import type * as mvcc from '../mvcc/types';
import {
  headerSize,
  kvSize,
  lenSize,
  numSize,
  T1L,
  T2L,
  T2V,
  T3L,
  T3V,
  T4L,
  T4V,
  writeHeader,
  writeKv,
  Writer,
  type HeaderFields,
} from './pb-writer';

export type { HeaderFields } from './pb-writer';

function kvsSize(kvs: readonly mvcc.KeyValue[]): number {
  let s = 0;
  for (const kv of kvs) s += lenSize(kvSize(kv));
  return s;
}

function writeKvs(w: Writer, tag: number, kvs: readonly mvcc.KeyValue[]): void {
  for (const kv of kvs) writeKv(w, tag, kv, kvSize(kv));
}

// ---- the responses ----

function rangeBody(r: mvcc.RangeResponse, h: HeaderFields | null): number {
  return lenSize(headerSize(h)) + kvsSize(r.kvs) + (r.more ? 2 : 0) + numSize(r.count);
}

function writeRange(w: Writer, r: mvcc.RangeResponse, h: HeaderFields | null): void {
  writeHeader(w, T1L, h, headerSize(h));
  writeKvs(w, T2L, r.kvs);
  w.bool(T3V, r.more);
  w.num(T4V, r.count);
}

function putBody(r: mvcc.PutResponse, h: HeaderFields | null): number {
  return lenSize(headerSize(h)) + (r.prevKv ? lenSize(kvSize(r.prevKv)) : 0);
}

function writePut(w: Writer, r: mvcc.PutResponse, h: HeaderFields | null): void {
  writeHeader(w, T1L, h, headerSize(h));
  if (r.prevKv) writeKv(w, T2L, r.prevKv, kvSize(r.prevKv));
}

function deleteBody(r: mvcc.DeleteRangeResponse, h: HeaderFields | null): number {
  return lenSize(headerSize(h)) + numSize(r.deleted) + kvsSize(r.prevKvs);
}

function writeDelete(w: Writer, r: mvcc.DeleteRangeResponse, h: HeaderFields | null): void {
  writeHeader(w, T1L, h, headerSize(h));
  w.num(T2V, r.deleted);
  writeKvs(w, T3L, r.prevKvs);
}

/**
 * As etcd, the responses inside a txn carry a header holding only the
 * revision, and a nested txn's own header is present but empty.
 */
function txnBody(r: mvcc.TxnResponse, h: HeaderFields | null, inner: HeaderFields): number {
  let s = lenSize(headerSize(h)) + (r.succeeded ? 2 : 0);
  for (const op of r.responses) s += lenSize(opBody(op, inner));
  return s;
}

function writeTxn(w: Writer, r: mvcc.TxnResponse, h: HeaderFields | null, inner: HeaderFields): void {
  writeHeader(w, T1L, h, headerSize(h));
  w.bool(T2V, r.succeeded);
  for (const op of r.responses) {
    w.head(T3L, opBody(op, inner));
    writeOp(w, op, inner);
  }
}

function opBody(op: mvcc.ResponseOp, inner: HeaderFields): number {
  if (op.responseRange) return lenSize(rangeBody(op.responseRange, inner));
  if (op.responsePut) return lenSize(putBody(op.responsePut, inner));
  if (op.responseDeleteRange) return lenSize(deleteBody(op.responseDeleteRange, inner));
  return lenSize(txnBody(op.responseTxn!, null, inner));
}

function writeOp(w: Writer, op: mvcc.ResponseOp, inner: HeaderFields): void {
  if (op.responseRange) {
    w.head(T1L, rangeBody(op.responseRange, inner));
    writeRange(w, op.responseRange, inner);
  } else if (op.responsePut) {
    w.head(T2L, putBody(op.responsePut, inner));
    writePut(w, op.responsePut, inner);
  } else if (op.responseDeleteRange) {
    w.head(T3L, deleteBody(op.responseDeleteRange, inner));
    writeDelete(w, op.responseDeleteRange, inner);
  } else {
    w.head(T4L, txnBody(op.responseTxn!, null, inner));
    writeTxn(w, op.responseTxn!, null, inner);
  }
}

/**
 * An answer sized but not yet written. grpc-js copies a serializer's bytes into
 * its own framed buffer at once (server-interceptors serializeMessage), so the
 * bytes are written into one scratch buffer that every answer reuses, instead of
 * a fresh one per answer: a 1,000-key range is ~280 KB, past malloc's mmap
 * threshold, and a fresh buffer each time cost page faults and GC pressure.
 */
export class EncodedAnswer {
  constructor(
    readonly size: number,
    private readonly writeTo: (w: Writer) => void,
  ) {}

  /** Bytes valid until the next call of bytes() on any answer: copy them before that. */
  bytes(): Buffer {
    const w = new Writer(scratchOf(this.size));
    this.writeTo(w);
    return w.done(this.size, 'encode-kv');
  }

  /** Writes the answer into `out`, which is exactly `size` bytes long. */
  writeInto(out: Buffer): void {
    const w = new Writer(out);
    this.writeTo(w);
    w.done(this.size, 'encode-kv');
  }

  /** A copy of the bytes that the caller may keep. */
  toBuffer(): Buffer {
    return Buffer.from(this.bytes());
  }
}

/** Scratch buffers up to this size are kept for reuse; larger answers get their own. */
const SCRATCH_MAX = 8 * 1024 * 1024;
let scratch = Buffer.allocUnsafe(64 * 1024);

function scratchOf(size: number): Buffer {
  if (size > SCRATCH_MAX) return Buffer.allocUnsafe(size);
  if (size > scratch.length) scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX, Math.max(size, scratch.length * 2)));
  return scratch.subarray(0, size);
}

export function encodeRangeResponse(r: mvcc.RangeResponse, h: HeaderFields): EncodedAnswer {
  return new EncodedAnswer(rangeBody(r, h), (w) => writeRange(w, r, h));
}

export function encodePutResponse(r: mvcc.PutResponse, h: HeaderFields): EncodedAnswer {
  return new EncodedAnswer(putBody(r, h), (w) => writePut(w, r, h));
}

export function encodeDeleteRangeResponse(r: mvcc.DeleteRangeResponse, h: HeaderFields): EncodedAnswer {
  return new EncodedAnswer(deleteBody(r, h), (w) => writeDelete(w, r, h));
}

export function encodeTxnResponse(r: mvcc.TxnResponse, h: HeaderFields): EncodedAnswer {
  const inner: HeaderFields = { clusterId: '', memberId: '', revision: h.revision, raftTerm: 0 };
  return new EncodedAnswer(txnBody(r, h, inner), (w) => writeTxn(w, r, h, inner));
}
