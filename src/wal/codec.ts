// Key layout and record encoding of the Raft WAL inside its LevelDB sublevel.
// Every kind of record has its own one-byte prefix; entry keys end in a
// big-endian 8-byte index so that LevelDB's byte order is log order.

import { Packr } from 'msgpackr';
import type { ConfState, Entry, EntryType, HardState, SnapshotMetadata } from '../raft/types';

/** Raised for any WAL condition that must stop the member from starting or running. */
export class WalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalError';
  }
}

/** Bumped when the on-disk layout changes incompatibly; checked on open. */
export const WAL_FORMAT = 1;

// No shared record structures: the bytes must decode identically after a
// restart, without any state carried by the encoder.
const packr = new Packr({ useRecords: false, moreTypes: false });

export const KEY_META = Buffer.from('m');
export const KEY_HARD_STATE = Buffer.from('h');
export const KEY_SNAPSHOT = Buffer.from('s');
export const KEY_MEMBERSHIP = Buffer.from('b');
const ENTRY_PREFIX = 0x65; // 'e'

/** Bounds that cover every entry key and nothing else. */
export const ENTRY_RANGE = {
  gte: Buffer.from([ENTRY_PREFIX, 0, 0, 0, 0, 0, 0, 0, 0]),
  lt: Buffer.from([ENTRY_PREFIX + 1]),
};

export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = ENTRY_PREFIX;
  key.writeBigUInt64BE(BigInt(index), 1);
  return key;
}

export function entryIndexOfKey(key: Uint8Array): number {
  if (key.length !== 9 || key[0] !== ENTRY_PREFIX) throw new WalError(`wal: malformed entry key ${Buffer.from(key).toString('hex')}`);
  const n = Buffer.from(key.buffer, key.byteOffset, key.length).readBigUInt64BE(1);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new WalError(`wal: entry index ${n} out of range`);
  return Number(n);
}

// Entries are stored as [term, type, data]: the index is in the key already.
export function encodeEntry(e: Entry): Buffer {
  return packr.pack([e.term, e.type, e.data]);
}

export function decodeEntry(index: number, value: Uint8Array): Entry {
  const v = unpackSafe(value, `entry ${index}`);
  if (!Array.isArray(v) || v.length !== 3 || !isUint(v[0]) || !isUint(v[1]) || !(v[2] instanceof Uint8Array)) {
    throw new WalError(`wal: corrupt entry record at index ${index}`);
  }
  return { index, term: v[0], type: v[1] as EntryType, data: v[2] };
}

export function encodeHardState(hs: HardState): Buffer {
  return packr.pack([hs.term, hs.vote, hs.commit]);
}

export function decodeHardState(value: Uint8Array): HardState {
  const v = unpackSafe(value, 'hard state');
  if (!Array.isArray(v) || !isUint(v[0]) || typeof v[1] !== 'string' || !isUint(v[2])) {
    throw new WalError('wal: corrupt hard state record');
  }
  return { term: v[0], vote: v[1], commit: v[2] };
}

export function encodeSnapshotMeta(m: SnapshotMetadata): Buffer {
  const c = m.confState;
  return packr.pack([m.index, m.term, [c.voters, c.learners, c.votersOutgoing, c.learnersNext, c.autoLeave]]);
}

export function decodeSnapshotMeta(value: Uint8Array): SnapshotMetadata {
  const v = unpackSafe(value, 'snapshot metadata');
  if (!Array.isArray(v) || !isUint(v[0]) || !isUint(v[1]) || !Array.isArray(v[2]) || v[2].length !== 5) {
    throw new WalError('wal: corrupt snapshot metadata record');
  }
  const [voters, learners, votersOutgoing, learnersNext, autoLeave] = v[2] as unknown[];
  const confState: ConfState = {
    voters: idList(voters),
    learners: idList(learners),
    votersOutgoing: idList(votersOutgoing),
    learnersNext: idList(learnersNext),
    autoLeave: autoLeave === true,
  };
  return { index: v[0], term: v[1], confState };
}

/** Written once at bootstrap; identifies whose data this directory holds. */
export interface WalMeta {
  memberId: string;
  clusterId: string;
  /** The server version that created the directory (informational). */
  version: string;
}

export function encodeMeta(m: WalMeta): Buffer {
  return packr.pack({ format: WAL_FORMAT, memberId: m.memberId, clusterId: m.clusterId, version: m.version });
}

export function decodeMeta(value: Uint8Array): WalMeta {
  const v = unpackSafe(value, 'metadata') as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object' || typeof v.memberId !== 'string' || typeof v.clusterId !== 'string' || typeof v.version !== 'string') {
    throw new WalError('wal: metadata record is corrupt');
  }
  if (v.format !== WAL_FORMAT) throw new WalError(`wal: unsupported on-disk format ${String(v.format)} (expected ${WAL_FORMAT})`);
  return { memberId: v.memberId, clusterId: v.clusterId, version: v.version };
}

export function encodeBlob(b: Uint8Array): Buffer {
  return packr.pack(b);
}

export function decodeBlob(value: Uint8Array): Uint8Array {
  const v = unpackSafe(value, 'membership');
  if (!(v instanceof Uint8Array)) throw new WalError('wal: corrupt membership record');
  return v;
}

function unpackSafe(value: Uint8Array, what: string): unknown {
  try {
    return packr.unpack(value);
  } catch (err) {
    throw new WalError(`wal: cannot decode ${what}: ${(err as Error).message}`);
  }
}

function isUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function idList(x: unknown): string[] {
  if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) throw new WalError('wal: corrupt conf state in snapshot metadata');
  return x as string[];
}
