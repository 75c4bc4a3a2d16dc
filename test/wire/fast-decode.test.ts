// The hand decoders of PutRequest and RangeRequest (src/api/fast-decode.ts)
// against proto-loader's deserializer, the one grpc-js uses: on every input
// they take, they must give the same object; everything odd they leave to
// protobufjs (null), and plain requests they must take.
import { describe, expect, it } from 'vitest';
import { decodePutRequest, decodeRangeRequest } from '../../src/api/fast-decode';
import { serviceDefinition } from '../../src/api/proto';

const kv = serviceDefinition('KV');
const putDef = kv['Put']!;
const rangeDef = kv['Range']!;
const encPut = (o: object) => putDef.requestSerialize(o) as Buffer;
const encRange = (o: object) => rangeDef.requestSerialize(o) as Buffer;

/** Deterministic PRNG (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INT64S = ['0', '1', '127', '128', '4294967295', '4294967296', '9007199254740993', '9223372036854775807', '-1', '-9223372036854775808', '-4294967296'];

function sameAsProtobufjs(bytes: Buffer, fast: (b: Buffer) => unknown, slow: (b: Buffer) => unknown): boolean {
  const mine = fast(bytes);
  if (mine === null) return false;
  expect(mine, bytes.toString('hex')).toEqual(slow(bytes));
  return true;
}

describe('fast request decoders', () => {
  it('decode plain Puts exactly as proto-loader does', () => {
    const r = rng(1);
    for (let i = 0; i < 300; i++) {
      const req: Record<string, unknown> = {};
      if (r() < 0.9) req['key'] = Buffer.alloc(Math.floor(r() * 40), Math.floor(r() * 256));
      if (r() < 0.8) req['value'] = Buffer.alloc(Math.floor(r() * 700), 7);
      if (r() < 0.5) req['lease'] = INT64S[Math.floor(r() * INT64S.length)];
      for (const b of ['prev_kv', 'ignore_value', 'ignore_lease']) if (r() < 0.3) req[b] = true;
      expect(sameAsProtobufjs(encPut(req), decodePutRequest, putDef.requestDeserialize), JSON.stringify(req)).toBe(true);
    }
  });

  it('decode plain Ranges exactly as proto-loader does', () => {
    const r = rng(2);
    const orders = ['NONE', 'ASCEND', 'DESCEND'];
    const targets = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'];
    for (let i = 0; i < 300; i++) {
      const req: Record<string, unknown> = { key: Buffer.from(`k${i}`) };
      if (r() < 0.5) req['range_end'] = Buffer.from([0]);
      for (const f of ['limit', 'revision', 'min_mod_revision', 'max_mod_revision', 'min_create_revision', 'max_create_revision']) {
        if (r() < 0.3) req[f] = INT64S[Math.floor(r() * INT64S.length)];
      }
      if (r() < 0.5) req['sort_order'] = orders[Math.floor(r() * 3)];
      if (r() < 0.5) req['sort_target'] = targets[Math.floor(r() * 5)];
      for (const b of ['serializable', 'keys_only', 'count_only']) if (r() < 0.3) req[b] = true;
      expect(sameAsProtobufjs(encRange(req), decodeRangeRequest, rangeDef.requestDeserialize), JSON.stringify(req)).toBe(true);
    }
  });

  it('agree with protobufjs on every damaged request they take, and leave the rest to it', () => {
    const r = rng(3);
    const seeds = [
      encPut({ key: Buffer.from('key'), value: Buffer.from('value'), lease: '-7', prev_kv: true }),
      encRange({ key: Buffer.from('a'), range_end: Buffer.from('z'), limit: '10', sort_order: 'DESCEND', serializable: true }),
    ];
    let taken = 0;
    let left = 0;
    for (let i = 0; i < 4000; i++) {
      const seed = seeds[i % 2]!;
      const b = Buffer.from(seed);
      // Flip, drop or add bytes.
      const edits = 1 + Math.floor(r() * 3);
      let out = b;
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(r() * out.length);
        const op = r();
        if (op < 0.5) out[at] = Math.floor(r() * 256);
        else if (op < 0.75) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
        else out = Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(r() * 256)]), out.subarray(at)]);
      }
      const [fast, slow] = i % 2 ? [decodeRangeRequest, rangeDef.requestDeserialize] : [decodePutRequest, putDef.requestDeserialize];
      const mine = fast(out);
      if (mine === null) {
        left++;
        continue;
      }
      taken++;
      expect(mine, out.toString('hex')).toEqual(slow(out));
    }
    // Both sides of the rule were exercised.
    expect(taken).toBeGreaterThan(200);
    expect(left).toBeGreaterThan(200);
  });

  it('leave unknown fields, other wire types and overlong varints to protobufjs', () => {
    const key = Buffer.from([0x0a, 0x01, 0x61]);
    expect(decodePutRequest(Buffer.concat([key, Buffer.from([0x38, 0x01])]))).toBeNull(); // field 7
    expect(decodePutRequest(Buffer.from([0x08, 0x01]))).toBeNull(); // key as a varint
    expect(decodePutRequest(Buffer.from([0x20, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00]))).toBeNull(); // 6-byte bool
    expect(decodeRangeRequest(Buffer.from([0x28, 0x03]))).toBeNull(); // sort_order 3
    expect(decodePutRequest(Buffer.from([0x0a, 0x05, 0x61]))).toBeNull(); // truncated
    expect(decodePutRequest(Buffer.alloc(0))).toEqual(putDef.requestDeserialize(Buffer.alloc(0)));
  });
});
