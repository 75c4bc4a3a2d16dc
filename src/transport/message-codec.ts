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
//   id: a str, ids: strs, bytes: as in src/binary.ts
//
// Raft's numbers are integers below 2^53, which a double holds exactly. A
// truncated or overlong batch throws, and the stream is closed.
import type { ConfState, Entry, Message, Snapshot } from '../raft/types';
import { EMPTY_BYTES as EMPTY, Reader, Writer, strSize, strsSize } from '../binary';

const REJECT = 1;
const HAS_SNAPSHOT = 2;

function messageSize(m: Message, withSnapshotData: boolean): number {
  let n = 1 + strSize(m.to) + strSize(m.from) + 40 + 1 + 4 + (m.context?.length ?? 0) + 4;
  for (const e of m.entries) n += 21 + e.data.length;
  const s = m.snapshot;
  if (s) {
    const c = s.metadata.confState;
    n += 16 + strsSize(c.voters) + strsSize(c.learners) + strsSize(c.votersOutgoing) + strsSize(c.learnersNext) + 1 + 4;
    if (withSnapshotData) n += s.data.length;
  }
  return n;
}

function writeMessage(w: Writer, m: Message, withSnapshotData: boolean): void {
  w.u8(m.type);
  w.str(m.to);
  w.str(m.from);
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
    w.strs(c.voters);
    w.strs(c.learners);
    w.strs(c.votersOutgoing);
    w.strs(c.learnersNext);
    w.u8(c.autoLeave ? 1 : 0);
    w.bytes(withSnapshotData ? s.data : EMPTY);
  }
}

function readMessage(r: Reader): Message {
  const type = r.u8();
  const to = r.str();
  const from = r.str();
  const term = r.num();
  const logTerm = r.num();
  const index = r.num();
  const commit = r.num();
  const rejectHint = r.num();
  const flags = r.u8();
  const context = r.bytes();
  const count = r.u32();
  // Each entry takes at least 21 bytes: a bad count fails here, not in a huge allocation.
  if (count * 21 > r.left) r.truncated();
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
    const voters = r.strs();
    const learners = r.strs();
    const votersOutgoing = r.strs();
    const learnersNext = r.strs();
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
  const r = new Reader(payload, 'message batch');
  const count = r.u32();
  // A message takes at least 54 bytes.
  if (count * 54 > r.left) r.truncated();
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = readMessage(r);
  r.end();
  return out;
}

/** One message without its snapshot's data (a MsgSnap head; the data travels in chunks). */
export function encodeMessageHead(m: Message): Buffer {
  const w = new Writer(Buffer.allocUnsafe(messageSize(m, false)));
  writeMessage(w, m, false);
  return w.buf;
}

export function decodeMessageHead(payload: Uint8Array): Message {
  const r = new Reader(payload, 'message head');
  const m = readMessage(r);
  r.end();
  return m;
}
