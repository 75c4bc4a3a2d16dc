// Protobuf writing primitives shared by the hand-written answer encoders
// (encode-kv.ts, encode-watch.ts): varints, a cursor over a sized buffer, and
// the two messages every answer carries, ResponseHeader and mvccpb.KeyValue.
// As Go's encoder does, scalar fields holding their zero value are left out,
// which decodes the same and keeps our bytes etcd's.

import type * as mvcc from '../mvcc/types';

/** The ResponseHeader values; ids are etcd's hex member/cluster ids. */
export interface HeaderFields {
  clusterId: string;
  memberId: string;
  revision: number;
  raftTerm: number;
}

const TWO_7 = 2 ** 7;

export function varintSize(n: number): number {
  let s = 1;
  while (n >= TWO_7) {
    n = Math.floor(n / TWO_7);
    s++;
  }
  return s;
}

export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= TWO_7) {
    buf[pos++] = (n % TWO_7) | 0x80;
    n = Math.floor(n / TWO_7);
  }
  buf[pos++] = n;
  return pos;
}

/** Varint bytes of an int64/uint64 held as a bigint (two's complement for negatives, as protobuf). */
export function bigVarint(v: bigint): Buffer {
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
export function numSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

export function lenSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Strings up to this length are copied char by char (see Writer.bytes). */
const SHORT_STRING = 32;

/** Buffer's own latin1 copy, which Buffer#write calls after checking its arguments (not in @types/node). */
interface Latin1Writable {
  latin1Write(s: string, offset: number, length: number): number;
}

export class Writer {
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

  /** The buffer, once exactly `size` bytes were written (a sizing bug otherwise). */
  done(size: number, who: string): Buffer {
    if (this.pos !== size) throw new Error(`${who}: wrote ${this.pos} bytes of ${size}`);
    return this.buf;
  }

  /** Bytes that are already whole fields. */
  fields(bytes: Buffer): void {
    this.pos += bytes.copy(this.buf, this.pos);
  }

  /**
   * A bytes field from a Buffer, or from a latin1 string (one char per byte).
   * A short string is copied char by char and a long one with latin1Write
   * itself: Buffer#write's argument and encoding checks cost more than the copy
   * (1,000 keys and 256-byte values: 90 µs this way, 261 through write()).
   */
  bytes(tag: number, b: Buffer | string): void {
    this.head(tag, b.length);
    if (typeof b !== 'string') {
      this.pos += b.copy(this.buf, this.pos);
    } else if (b.length <= SHORT_STRING) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < b.length; i++) buf[pos++] = b.charCodeAt(i);
      this.pos = pos;
    } else {
      this.pos += (this.buf as unknown as Latin1Writable).latin1Write(b, this.pos, b.length);
    }
  }

  /** Tag and length of a length-delimited field whose body follows. */
  head(tag: number, len: number): void {
    this.buf[this.pos++] = tag;
    this.pos = writeVarint(this.buf, this.pos, len);
  }
}

// Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
export const T1V = 0x08, T2V = 0x10, T3V = 0x18, T4V = 0x20, T6V = 0x30;
export const T1L = 0x0a, T2L = 0x12, T3L = 0x1a, T4L = 0x22, T5L = 0x2a;

// ---- ResponseHeader ----

export function headerSize(h: HeaderFields | null): number {
  if (h === null) return 0;
  return (h.clusterId ? 1 + idVarint(h.clusterId).length : 0) + (h.memberId ? 1 + idVarint(h.memberId).length : 0) + numSize(h.revision) + numSize(h.raftTerm);
}

export function writeHeader(w: Writer, tag: number, h: HeaderFields | null, size: number): void {
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

export function kvSize(kv: mvcc.KeyValue): number {
  return (
    (kv.key.length ? lenSize(kv.key.length) : 0) +
    numSize(kv.createRevision) +
    numSize(kv.modRevision) +
    numSize(kv.version) +
    (kv.value.length ? lenSize(kv.value.length) : 0) +
    leaseSize(kv.lease)
  );
}

export function writeKv(w: Writer, tag: number, kv: mvcc.KeyValue, size: number): void {
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

