// Raft messages on the wire: msgpack of positional tuples rather than objects,
// so field names are not repeated in every message of a batch.

import { Packr } from 'msgpackr';
import type { ConfState, Entry, Message, NodeId, Snapshot } from '../raft/types';

// No shared record structures: each frame must decode on its own.
const packr = new Packr({ useRecords: false, moreTypes: false });

type EntryTuple = [number, number, number, Uint8Array];
type ConfTuple = [NodeId[], NodeId[], NodeId[], NodeId[], boolean];
type SnapTuple = [number, number, ConfTuple, Uint8Array];
type MessageTuple = [
  number, NodeId, NodeId, number, number, number, EntryTuple[], number, boolean, number, Uint8Array, SnapTuple | null,
];

const EMPTY = new Uint8Array(0);

function messageToTuple(m: Message, withSnapshotData = true): MessageTuple {
  const s = m.snapshot;
  let snap: SnapTuple | null = null;
  if (s) {
    const c = s.metadata.confState;
    snap = [s.metadata.index, s.metadata.term, [c.voters, c.learners, c.votersOutgoing, c.learnersNext, c.autoLeave], withSnapshotData ? s.data : EMPTY];
  }
  const entries: EntryTuple[] = new Array(m.entries.length);
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    entries[i] = [e.term, e.index, e.type, e.data];
  }
  return [m.type, m.to, m.from, m.term, m.logTerm, m.index, entries, m.commit, m.reject, m.rejectHint, m.context ?? EMPTY, snap];
}

function tupleToMessage(t: unknown): Message {
  if (!Array.isArray(t) || t.length !== 12) throw new Error('malformed message');
  const [type, to, from, term, logTerm, index, ents, commit, reject, rejectHint, context, snap] = t as MessageTuple;
  if (typeof to !== 'string' || typeof from !== 'string' || !Array.isArray(ents)) throw new Error('malformed message');
  const entries: Entry[] = new Array(ents.length);
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i]!;
    entries[i] = { term: e[0], index: e[1], type: e[2], data: e[3] };
  }
  const m: Message = { type, to, from, term, logTerm, index, entries, commit, reject, rejectHint, context };
  if (snap) {
    const [voters, learners, votersOutgoing, learnersNext, autoLeave] = snap[2];
    const confState: ConfState = { voters, learners, votersOutgoing, learnersNext, autoLeave };
    const snapshot: Snapshot = { metadata: { index: snap[0], term: snap[1], confState }, data: snap[3] };
    m.snapshot = snapshot;
  }
  return m;
}

export function encodeMessages(ms: readonly Message[]): Buffer {
  return packr.pack(ms.map((m) => messageToTuple(m)));
}

export function decodeMessages(payload: Uint8Array): Message[] {
  const v: unknown = packr.unpack(payload);
  if (!Array.isArray(v)) throw new Error('malformed message batch');
  return v.map(tupleToMessage);
}

/** A MsgSnap without its data, which travels separately in chunks. */
export function encodeSnapHead(m: Message, size: number): Buffer {
  return packr.pack([messageToTuple(m, false), size]);
}

export function decodeSnapHead(payload: Uint8Array): { message: Message; size: number } {
  const v: unknown = packr.unpack(payload);
  if (!Array.isArray(v) || v.length !== 2 || typeof v[1] !== 'number' || !Number.isSafeInteger(v[1]) || v[1] < 0) {
    throw new Error('malformed snapshot head');
  }
  const message = tupleToMessage(v[0]);
  if (!message.snapshot) throw new Error('snapshot head without snapshot');
  return { message, size: v[1] };
}

/** Rough wire size of a message, for the per-peer queue's byte bound (no encoding needed). */
export function estimateSize(m: Message): number {
  let n = 48 + (m.context?.length ?? 0);
  for (const e of m.entries) n += 16 + e.data.length;
  if (m.snapshot) n += 64 + m.snapshot.data.length;
  return n;
}

export enum ConnKind {
  Stream = 0,
  Snapshot = 1,
}

export interface Hello {
  clusterId: string;
  from: NodeId;
  to: NodeId;
  kind: ConnKind;
}

const PROTOCOL_VERSION = 1;

export function encodeHello(h: Hello): Buffer {
  return packr.pack([PROTOCOL_VERSION, h.clusterId, h.from, h.to, h.kind]);
}

export function decodeHello(payload: Uint8Array): Hello {
  const v: unknown = packr.unpack(payload);
  if (!Array.isArray(v) || v[0] !== PROTOCOL_VERSION || typeof v[1] !== 'string' || typeof v[2] !== 'string' || typeof v[3] !== 'string') {
    throw new Error('malformed or unsupported handshake');
  }
  if (v[4] !== ConnKind.Stream && v[4] !== ConnKind.Snapshot) throw new Error('unknown connection kind');
  return { clusterId: v[1], from: v[2], to: v[3], kind: v[4] };
}

export function encodeValue(v: unknown): Buffer {
  return packr.pack(v);
}

export function decodeValue(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}
