// Raft entries' payloads: a plain Put in the binary layout of put-codec.ts,
// everything else in msgpack, and both decoding to the same operation.
import { describe, expect, it } from 'vitest';
import { decodeProposal, encodeProposal, type Operation } from '../../src/server/proposal';
import { PUT_TAG } from '../../src/server/put-codec';
import { encode } from '../../src/server/codec';
import type { PutRequest } from '../../src/mvcc/types';

const id = { origin: '8e9e05c52164694d', nonce: 0xdeadbeef, seq: 2 ** 40 + 7 };

function roundTrip(put: PutRequest): PutRequest {
  const data = encodeProposal(id, { kind: 'write', req: { put } });
  expect(data[0]).toBe(PUT_TAG);
  const { id: back, op } = decodeProposal(data);
  expect(back).toEqual(id);
  expect(op.kind).toBe('write');
  return (op as { kind: 'write'; req: { put: PutRequest } }).req.put;
}

describe('proposal codec', () => {
  it('keeps every field of a Put', () => {
    const put = roundTrip({ key: Buffer.from('k1'), value: Buffer.from('v'.repeat(300)), lease: 0x7fffffffffffffffn, prevKv: true, ignoreValue: false, ignoreLease: true });
    expect(put.key.toString()).toBe('k1');
    expect(put.value!.toString()).toBe('v'.repeat(300));
    expect(put.lease).toBe(0x7fffffffffffffffn);
    expect([put.prevKv, put.ignoreValue, put.ignoreLease]).toEqual([true, false, true]);
  });

  it('keeps absent fields absent and empty ones empty', () => {
    const put = roundTrip({ key: Buffer.from([0, 255]), value: Buffer.alloc(0) });
    expect([...put.key]).toEqual([0, 255]);
    expect(put.value!.length).toBe(0);
    expect(put.lease).toBeUndefined();
    expect([put.prevKv, put.ignoreValue, put.ignoreLease]).toEqual([false, false, false]);
    const noValue = roundTrip({ key: Buffer.from('k'), ignoreValue: true, lease: -5n });
    expect(noValue.value).toBeUndefined();
    expect(noValue.lease).toBe(-5n);
  });

  it('still reads msgpack proposals, as WALs written before the binary layout hold them', () => {
    const old = Buffer.from(encode([id.origin, id.nonce, id.seq, { kind: 'write', req: { put: { key: Buffer.from('a'), value: Buffer.from('b') } } }]));
    expect(old[0]).toBe(0x94);
    const { id: back, op } = decodeProposal(old);
    expect(back).toEqual(id);
    const put = (op as { kind: 'write'; req: { put: PutRequest } }).req.put;
    expect(put.key.toString() + put.value!.toString()).toBe('ab');
  });

  it('keeps msgpack for every other operation', () => {
    const ops: Operation[] = [
      { kind: 'write', req: { deleteRange: { key: Buffer.from('a'), rangeEnd: Buffer.from('b') } } },
      { kind: 'leaseGrant', id: 42n, ttl: 10 },
      { kind: 'leaseRevoke', id: 42n },
    ];
    for (const op of ops) {
      const data = encodeProposal(id, op);
      expect(data[0]).toBe(0x94);
      expect(decodeProposal(data).op).toEqual(op);
    }
  });

  it('falls back to msgpack for a Put the layout cannot hold', () => {
    const data = encodeProposal({ ...id, origin: 'x'.repeat(70_000) }, { kind: 'write', req: { put: { key: Buffer.from('k'), value: Buffer.from('v') } } });
    expect(data[0]).toBe(0x94);
    expect(decodeProposal(data).id.origin).toBe('x'.repeat(70_000));
  });

  it('refuses a truncated Put instead of reading past its end', () => {
    const data = encodeProposal(id, { kind: 'write', req: { put: { key: Buffer.from('key'), value: Buffer.from('value') } } });
    for (let n = 1; n < data.length; n++) expect(() => decodeProposal(data.subarray(0, n))).toThrow(RangeError);
  });
});
