// Hand-written protobuf encoders for the KV service's answers, the hottest
// bytes the server writes. The generic route (plain object -> protobufjs
// fromObject, which parses every int64 from a decimal string, -> encode) cost
// more CPU per 1,000-key range than the range itself. Here each answer is
// sized, then written straight from the store's objects when grpc-js asks.
// Field numbers are etcd's (proto/rpc.proto, proto/kv.proto); as Go's encoder
// does, scalar fields holding their zero value are left out, which decodes the
// same. Messages that are present but empty (a nested txn's header) stay present.

import type * as mvcc from '../mvcc/types';

/** The ResponseHeader values; ids are etcd's hex member/cluster ids. */
export interface HeaderFields {
  clusterId: string;
  memberId: string;
  revision: number;
  raftTerm: number;
}

const TWO_7 = 2 ** 7;

function varintSize(n: number): number {
  let s = 1;
  while (n >= TWO_7) {
    n = Math.floor(n / TWO_7);
    s++;
  }
  return s;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= TWO_7) {
    buf[pos++] = (n % TWO_7) | 0x80;
    n = Math.floor(n / TWO_7);
  }
  buf[pos++] = n;
  return pos;
}

/** Varint bytes of an int64/uint64 held as a bigint (two's complement for negatives, as protobuf). */
function bigVarint(v: bigint): Buffer {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}

const idVarints = new Map<string, Buffer>();

/** Varint of a hex member/cluster id, computed once per id. */
function idVarint(hex: string): Buffer {
  let b = idVarints.get(hex);
  if (!b) {
    b = bigVarint(BigInt(`0x${hex}`));
    idVarints.set(hex, b);
  }
  return b;
}

/** A number field (int64 >= 0 held as a JS number): tag + varint, or nothing for 0. */
function numSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

function lenSize(len: number): number {
  return 1 + varintSize(len) + len;
}

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  num(tag: number, n: number): void {
    if (n === 0) return;
    this.buf[this.pos++] = tag;
    this.pos = writeVarint(this.buf, this.pos, n);
  }

  bool(tag: number, b: boolean): void {
    if (!b) return;
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = 1;
  }

  raw(tag: number, bytes: Buffer): void {
    this.buf[this.pos++] = tag;
    this.pos += bytes.copy(this.buf, this.pos);
  }

  /** A bytes field from a Buffer, or from a latin1 string (one char per byte). */
  bytes(tag: number, b: Buffer | string): void {
    this.head(tag, b.length);
    this.pos += typeof b === 'string' ? this.buf.write(b, this.pos, 'latin1') : b.copy(this.buf, this.pos);
  }

  /** Tag and length of a length-delimited field whose body follows. */
  head(tag: number, len: number): void {
    this.buf[this.pos++] = tag;
    this.pos = writeVarint(this.buf, this.pos, len);
  }
}

// Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const T1V = 0x08, T2V = 0x10, T3V = 0x18, T4V = 0x20, T6V = 0x30;
const T1L = 0x0a, T2L = 0x12, T3L = 0x1a, T4L = 0x22, T5L = 0x2a;

// ---- ResponseHeader ----

function headerSize(h: HeaderFields | null): number {
  if (h === null) return 0;
  return (h.clusterId ? 1 + idVarint(h.clusterId).length : 0) + (h.memberId ? 1 + idVarint(h.memberId).length : 0) + numSize(h.revision) + numSize(h.raftTerm);
}

function writeHeader(w: Writer, tag: number, h: HeaderFields | null, size: number): void {
  w.head(tag, size);
  if (h === null) return;
  if (h.clusterId) w.raw(T1V, idVarint(h.clusterId));
  if (h.memberId) w.raw(T2V, idVarint(h.memberId));
  w.num(T3V, h.revision);
  w.num(T4V, h.raftTerm);
}

// ---- mvccpb.KeyValue ----

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function leaseSize(lease: bigint): number {
  if (lease === 0n) return 0;
  return 1 + (lease > 0n && lease <= MAX_SAFE ? varintSize(Number(lease)) : bigVarint(lease).length);
}

function kvSize(kv: mvcc.KeyValue): number {
  return (
    (kv.key.length ? lenSize(kv.key.length) : 0) +
    numSize(kv.createRevision) +
    numSize(kv.modRevision) +
    numSize(kv.version) +
    (kv.value.length ? lenSize(kv.value.length) : 0) +
    leaseSize(kv.lease)
  );
}

function writeKv(w: Writer, tag: number, kv: mvcc.KeyValue, size: number): void {
  w.head(tag, size);
  if (kv.key.length) w.bytes(T1L, kv.key);
  w.num(T2V, kv.createRevision);
  w.num(T3V, kv.modRevision);
  w.num(T4V, kv.version);
  if (kv.value.length) w.bytes(T5L, kv.value);
  if (kv.lease === 0n) return;
  if (kv.lease > 0n && kv.lease <= MAX_SAFE) w.num(T6V, Number(kv.lease));
  else w.raw(T6V, bigVarint(kv.lease));
}

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
    if (w.pos !== this.size) throw new Error(`encode-kv: wrote ${w.pos} bytes of ${this.size}`);
    return w.buf;
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
