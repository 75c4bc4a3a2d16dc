// Little-endian binary layouts written into an exactly sized buffer and read
// back with bounds checks: the Raft message batches (transport/message-codec.ts)
// and the Put proposals (server/put-codec.ts). A read past the end throws a
// RangeError (Buffer's own, or ours for lengths), so a damaged record is
// refused rather than half-read; byte fields are read as views, not copies.
//
//   str:   u16 length | UTF-8          strs:  u16 count | str*
//   bytes: u32 length | bytes

export const EMPTY_BYTES = new Uint8Array(0);

/** Bytes a str field takes. */
export function strSize(s: string): number {
  return 2 + Buffer.byteLength(s, 'utf8');
}

/** Bytes a strs field takes. */
export function strsSize(list: readonly string[]): number {
  let n = 2;
  for (const s of list) n += strSize(s);
  return n;
}

/** Views any Uint8Array as a Buffer without copying. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export class Writer {
  at = 0;
  constructor(readonly buf: Buffer) {}
  u8(v: number): void {
    this.buf[this.at++] = v;
  }
  u32(v: number): void {
    this.at = this.buf.writeUInt32LE(v, this.at);
  }
  /** An integer below 2^53 (or any double). */
  num(v: number): void {
    this.at = this.buf.writeDoubleLE(v, this.at);
  }
  i64(v: bigint): void {
    this.at = this.buf.writeBigInt64LE(v, this.at);
  }
  str(s: string): void {
    const len = this.buf.write(s, this.at + 2, 'utf8');
    this.buf.writeUInt16LE(len, this.at);
    this.at += 2 + len;
  }
  strs(list: readonly string[]): void {
    this.at = this.buf.writeUInt16LE(list.length, this.at);
    for (const s of list) this.str(s);
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

export class Reader {
  at = 0;
  readonly buf: Buffer;
  constructor(data: Uint8Array, private readonly what: string) {
    this.buf = asBuffer(data);
  }
  /** Bytes not read yet. */
  get left(): number {
    return this.buf.length - this.at;
  }
  u8(): number {
    if (this.at >= this.buf.length) this.truncated();
    return this.buf[this.at++]!;
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  num(): number {
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64LE(this.at);
    this.at += 8;
    return v;
  }
  str(): string {
    const len = this.buf.readUInt16LE(this.at);
    const end = this.at + 2 + len;
    if (end > this.buf.length) this.truncated();
    const s = this.buf.toString('utf8', this.at + 2, end);
    this.at = end;
    return s;
  }
  strs(): string[] {
    const n = this.buf.readUInt16LE(this.at);
    this.at += 2;
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.str();
    return out;
  }
  bytes(): Buffer {
    const len = this.u32();
    const end = this.at + len;
    if (end > this.buf.length) this.truncated();
    const b = this.buf.subarray(this.at, end);
    this.at = end;
    return b;
  }
  /** Throws unless every byte was read. */
  end(): void {
    if (this.at !== this.buf.length) throw new RangeError(`${this.what}: trailing bytes`);
  }
  truncated(): never {
    throw new RangeError(`${this.what}: truncated`);
  }
}
