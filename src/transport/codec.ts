// The peer protocol's payloads: Raft message batches in the binary layout of
// message-codec.ts; the handshake and small values in msgpack.

import { Packr } from 'msgpackr';
import type { Message, NodeId } from '../raft/types';
import { decodeMessageHead, encodeMessageHead } from './message-codec';

export { encodeMessageBatch as encodeMessages, decodeMessageBatch as decodeMessages } from './message-codec';

// No shared record structures: each frame must decode on its own.
const packr = new Packr({ useRecords: false, moreTypes: false });

/** A MsgSnap without its data, which travels separately in chunks. */
export function encodeSnapHead(m: Message, size: number): Buffer {
  return packr.pack([encodeMessageHead(m), size]);
}

export function decodeSnapHead(payload: Uint8Array): { message: Message; size: number } {
  const v: unknown = packr.unpack(payload);
  if (!Array.isArray(v) || v.length !== 2 || !(v[0] instanceof Uint8Array) || typeof v[1] !== 'number' || !Number.isSafeInteger(v[1]) || v[1] < 0) {
    throw new Error('malformed snapshot head');
  }
  const message = decodeMessageHead(v[0]);
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
  /** A member joining an existing cluster asks who the members are (etcd's GET /members on its peer port). */
  Members = 2,
}

export interface Hello {
  clusterId: string;
  from: NodeId;
  to: NodeId;
  kind: ConnKind;
}

/** 2: message batches in message-codec.ts's layout (1 was msgpack tuples). */
const PROTOCOL_VERSION = 2;

export function encodeHello(h: Hello): Buffer {
  return packr.pack([PROTOCOL_VERSION, h.clusterId, h.from, h.to, h.kind]);
}

export function decodeHello(payload: Uint8Array): Hello {
  const v: unknown = packr.unpack(payload);
  if (!Array.isArray(v) || v[0] !== PROTOCOL_VERSION || typeof v[1] !== 'string' || typeof v[2] !== 'string' || typeof v[3] !== 'string') {
    throw new Error('malformed or unsupported handshake');
  }
  if (v[4] !== ConnKind.Stream && v[4] !== ConnKind.Snapshot && v[4] !== ConnKind.Members) throw new Error('unknown connection kind');
  return { clusterId: v[1], from: v[2], to: v[3], kind: v[4] };
}

export function encodeValue(v: unknown): Buffer {
  return packr.pack(v);
}

export function decodeValue(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}
