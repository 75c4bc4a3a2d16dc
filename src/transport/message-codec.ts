// Raft message batches on the wire, in a fixed binary layout. They were
// msgpack tuples: in a CPU profile of one client putting, msgpack's pack and
// unpack of appends and acknowledgements (with their member-id strings) were
// a quarter of a follower's time in reading a peer's socket. Here the sizes
// are known up front, so a batch is written into one exactly sized buffer,
// and reading takes views of the entries' data instead of copying it.
//
//   batch:    u32 count | message*
//   message:  u8 type | id to | id from | f64 term, logTerm, index, commit,
//             rejectHint | u8 flags (1 reject, 2 snapshot) | bytes context
//             | u32 entry count | entry* | [snapshot]
//   entry:    f64 term | f64 index | u8 type | bytes data
//   snapshot: f64 index | f64 term | ids voters, learners, votersOutgoing,
//             learnersNext | u8 autoLeave | bytes data
//   id:       u16 length | UTF-8;  ids: u16 count | id*;  bytes: u32 length | bytes
//
// Little-endian. Raft's numbers are integers below 2^53, which a double holds
// exactly. A truncated or overlong batch throws, and the stream is closed.
import type { ConfState, Entry, Message, NodeId, Snapshot } from '../raft/types';

const REJECT = 1;
const HAS_SNAPSHOT = 2;
const EMPTY = new Uint8Array(0);

function idSize(id: NodeId): number {
  return 2 + Buffer.byteLength(id, 'utf8');
}

function idsSize(ids: readonly NodeId[]): number {
  let n = 2;
  for (const id of ids) n += idSize(id);
  return n;
}

function messageSize(m: Message, withSnapshotData: boolean): number {
  let n = 1 + idSize(m.to) + idSize(m.from) + 40 + 1 + 4 + (m.context?.length ?? 0) + 4;
  for (const e of m.entries) n += 21 + e.data.length;
  const s = m.snapshot;
  if (s) {
    const c = s.metadata.confState;
    n += 16 + idsSize(c.voters) + idsSize(c.learners) + idsSize(c.votersOutgoing) + idsSize(c.learnersNext) + 1 + 4;
    if (withSnapshotData) n += s.data.length;
  }
  return n;
}

class Writer {
  at = 0;
  constructor(readonly buf: Buffer) {}
  u8(v: number): void {
    this.buf[this.at++] = v;
  }
  u32(v: number): void {
    this.at = this.buf.writeUInt32LE(v, this.at);
  }
  num(v: number): void {
    this.at = this.buf.writeDoubleLE(v, this.at);
  }
  id(id: NodeId): void {
    const len = this.buf.write(id, this.at + 2, 'utf8');
    this.buf.writeUInt16LE(len, this.at);
    this.at += 2 + len;
  }
  ids(ids: readonly NodeId[]): void {
    this.at = this.buf.writeUInt16LE(ids.length, this.at);
    for (const id of ids) this.id(id);
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    if (this.at >= this.buf.length) throw new RangeError('message batch: truncated');
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
  id(): NodeId {
    const len = this.buf.readUInt16LE(this.at);
    const end = this.at + 2 + len;
    if (end > this.buf.length) throw new RangeError('message batch: truncated');
    const s = this.buf.toString('utf8', this.at + 2, end);
    this.at = end;
    return s;
  }
  ids(): NodeId[] {
    const n = this.buf.readUInt16LE(this.at);
    this.at += 2;
    const out: NodeId[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.id();
    return out;
  }
  bytes(): Buffer {
    const len = this.u32();
    const end = this.at + len;
    if (end > this.buf.length) throw new RangeError('message batch: truncated');
    const b = this.buf.subarray(this.at, end);
    this.at = end;
    return b;
  }
}

function writeMessage(w: Writer, m: Message, withSnapshotData: boolean): void {
  w.u8(m.type);
  w.id(m.to);
  w.id(m.from);
  w.num(m.term);
  w.num(m.logTerm);
  w.num(m.index);
  w.num(m.commit);
  w.num(m.rejectHint);
  w.u8((m.reject ? REJECT : 0) | (m.snapshot ? HAS_SNAPSHOT : 0));
  w.bytes(m.context ?? EMPTY);
  w.u32(m.entries.length);
  for (const e of m.entries) {
    w.num(e.term);
    w.num(e.index);
    w.u8(e.type);
    w.bytes(e.data);
  }
  const s = m.snapshot;
  if (s) {
    const c = s.metadata.confState;
    w.num(s.metadata.index);
    w.num(s.metadata.term);
    w.ids(c.voters);
    w.ids(c.learners);
    w.ids(c.votersOutgoing);
    w.ids(c.learnersNext);
    w.u8(c.autoLeave ? 1 : 0);
    w.bytes(withSnapshotData ? s.data : EMPTY);
  }
}

function readMessage(r: Reader): Message {
  const type = r.u8();
  const to = r.id();
  const from = r.id();
  const term = r.num();
  const logTerm = r.num();
  const index = r.num();
  const commit = r.num();
  const rejectHint = r.num();
  const flags = r.u8();
  const context = r.bytes();
  const count = r.u32();
  // Each entry takes at least 21 bytes: a bad count fails here, not in a huge allocation.
  if (count * 21 > r.buf.length - r.at) throw new RangeError('message batch: truncated');
  const entries: Entry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const eterm = r.num();
    const eindex = r.num();
    const etype = r.u8();
    entries[i] = { term: eterm, index: eindex, type: etype, data: r.bytes() };
  }
  const m: Message = { type, to, from, term, logTerm, index, entries, commit, reject: (flags & REJECT) !== 0, rejectHint, context };
  if (flags & HAS_SNAPSHOT) {
    const sindex = r.num();
    const sterm = r.num();
    const voters = r.ids();
    const learners = r.ids();
    const votersOutgoing = r.ids();
    const learnersNext = r.ids();
    const confState: ConfState = { voters, learners, votersOutgoing, learnersNext, autoLeave: r.u8() === 1 };
    const snapshot: Snapshot = { metadata: { index: sindex, term: sterm, confState }, data: r.bytes() };
    m.snapshot = snapshot;
  }
  return m;
}

export function encodeMessageBatch(ms: readonly Message[]): Buffer {
  let size = 4;
  for (const m of ms) size += messageSize(m, true);
  const w = new Writer(Buffer.allocUnsafe(size));
  w.u32(ms.length);
  for (const m of ms) writeMessage(w, m, true);
  return w.buf;
}

export function decodeMessageBatch(payload: Uint8Array): Message[] {
  const r = new Reader(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  const count = r.u32();
  // A message takes at least 54 bytes.
  if (count * 54 > r.buf.length - r.at) throw new RangeError('message batch: truncated');
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = readMessage(r);
  if (r.at !== r.buf.length) throw new RangeError('message batch: trailing bytes');
  return out;
}

/** One message without its snapshot's data (a MsgSnap head; the data travels in chunks). */
export function encodeMessageHead(m: Message): Buffer {
  const w = new Writer(Buffer.allocUnsafe(messageSize(m, false)));
  writeMessage(w, m, false);
  return w.buf;
}

export function decodeMessageHead(payload: Uint8Array): Message {
  const r = new Reader(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  const m = readMessage(r);
  if (r.at !== r.buf.length) throw new RangeError('message head: trailing bytes');
  return m;
}
