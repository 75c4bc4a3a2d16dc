// Hand decoders for the two requests every workload is made of, PutRequest
// and RangeRequest, giving the very object proto-loader's deserializer gives
// (its options in proto.ts: int64 as decimal strings, enums as names, bytes as
// Buffers, defaults filled in). protobufjs decoded into a message object, then
// copied that into a plain one, making a fresh empty Buffer for every absent
// bytes field: ~15 µs of the leader's CPU per put in a profile of one client.
//
// Only the plain encoding is taken: known fields with their own wire types,
// well-formed varints, known enum values. Anything else (unknown fields,
// another wire type, a truncated message) returns null, and the caller hands
// the bytes to protobufjs, so odd requests keep its exact answers and errors.
import type * as pb from './pb';

type Kind = 'bytes' | 'int64' | 'bool' | readonly string[];
type Spec = ReadonlyArray<readonly [name: string, kind: Kind] | undefined>;

const SORT_ORDER = ['NONE', 'ASCEND', 'DESCEND'] as const;
const SORT_TARGET = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const;

// Indexed by field number, as in rpc.proto.
const PUT: Spec = [undefined, ['key', 'bytes'], ['value', 'bytes'], ['lease', 'int64'], ['prev_kv', 'bool'], ['ignore_value', 'bool'], ['ignore_lease', 'bool']];
const RANGE: Spec = [
  undefined,
  ['key', 'bytes'],
  ['range_end', 'bytes'],
  ['limit', 'int64'],
  ['revision', 'int64'],
  ['sort_order', SORT_ORDER],
  ['sort_target', SORT_TARGET],
  ['serializable', 'bool'],
  ['keys_only', 'bool'],
  ['count_only', 'bool'],
  ['min_mod_revision', 'int64'],
  ['max_mod_revision', 'int64'],
  ['min_create_revision', 'int64'],
  ['max_create_revision', 'int64'],
];

const EMPTY = Buffer.alloc(0);

/**
 * A varint's low and high 32 bits and where it ends; null if it runs past
 * `max` bytes or the buffer. protobufjs reads tags, lengths, bools and enums
 * as 32-bit varints and steps over bytes 6-10 of a longer one without looking
 * at them, so those take max 5 here and anything longer goes to protobufjs.
 */
function varint(b: Buffer, at: number, max: number): { lo: number; hi: number; end: number } | null {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < max; i++) {
    if (at + i >= b.length) return null;
    const byte = b[at + i]!;
    const bits = byte & 0x7f;
    const shift = 7 * i;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= (bits & 0x0f) << 28;
      hi |= bits >> 4;
    } else hi |= bits << (shift - 32);
    if (byte < 0x80) return { lo: lo >>> 0, hi: hi >>> 0, end: at + i + 1 };
  }
  return null;
}

/** int64 as protobufjs's Long prints it: two's complement, decimal. */
function int64String(lo: number, hi: number): string {
  if (hi === 0) return String(lo);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function defaults(spec: Spec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of spec) {
    if (!f) continue;
    const [name, kind] = f;
    out[name] = kind === 'bytes' ? EMPTY : kind === 'int64' ? '0' : kind === 'bool' ? false : kind[0];
  }
  return out;
}

function decode(b: Buffer, spec: Spec): Record<string, unknown> | null {
  const out = defaults(spec);
  let at = 0;
  while (at < b.length) {
    const tag = varint(b, at, 5);
    if (!tag || tag.hi !== 0) return null;
    at = tag.end;
    const f = spec[tag.lo >>> 3];
    if (!f) return null;
    const [name, kind] = f;
    const wire = tag.lo & 7;
    if (kind === 'bytes') {
      if (wire !== 2) return null;
      const len = varint(b, at, 5);
      if (!len || len.hi !== 0 || len.end + len.lo > b.length) return null;
      out[name] = b.subarray(len.end, len.end + len.lo);
      at = len.end + len.lo;
      continue;
    }
    if (wire !== 0) return null;
    const v = varint(b, at, kind === 'int64' ? 10 : 5);
    if (!v) return null;
    at = v.end;
    if (kind === 'int64') out[name] = int64String(v.lo, v.hi);
    else if (kind === 'bool') out[name] = v.lo !== 0;
    else {
      const label = v.hi === 0 ? kind[v.lo] : undefined;
      if (label === undefined) return null;
      out[name] = label;
    }
  }
  return out;
}

export function decodePutRequest(b: Buffer): pb.PutRequest__Output | null {
  return decode(b, PUT) as pb.PutRequest__Output | null;
}

export function decodeRangeRequest(b: Buffer): pb.RangeRequest__Output | null {
  return decode(b, RANGE) as pb.RangeRequest__Output | null;
}

/** Fast decoders by method path, for the fast path's deserializers. */
export const FAST_DECODERS: Readonly<Record<string, (b: Buffer) => unknown>> = {
  '/etcdserverpb.KV/Put': decodePutRequest,
  '/etcdserverpb.KV/Range': decodeRangeRequest,
};
