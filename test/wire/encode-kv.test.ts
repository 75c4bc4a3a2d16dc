// The hand-written KV answer encoders against protobufjs: for many random
// answers, decoding our bytes with etcd's message types gives exactly what
// decoding protobufjs's encoding of the same answer (as plain objects) gives.
import { describe, expect, it } from 'vitest';
import { deleteRangeToPb, putToPb, rangeToPb, txnToPb } from '../../src/api/convert';
import { encodeDeleteRangeResponse, encodePutResponse, encodeRangeResponse, encodeTxnResponse, type HeaderFields } from '../../src/api/encode-kv';
import { toHeader } from '../../src/api/header';
import { header, randomKv, rng, toObj, type } from './pb-fixtures';
import type * as mvcc from '../../src/mvcc/types';

const kvs = (r: () => number, max: number) => Array.from({ length: Math.floor(r() * max) }, () => randomKv(r));

function randomOp(r: () => number, depth: number): mvcc.ResponseOp {
  const k = Math.floor(r() * (depth > 0 ? 4 : 3));
  if (k === 0) return { responseRange: { revision: 7, kvs: kvs(r, 4), more: r() < 0.5, count: Math.floor(r() * 9) } };
  if (k === 1) return { responsePut: r() < 0.5 ? { revision: 7, prevKv: randomKv(r) } : { revision: 7 } };
  if (k === 2) return { responseDeleteRange: { revision: 7, deleted: Math.floor(r() * 3), prevKvs: kvs(r, 3) } };
  return { responseTxn: { revision: 7, succeeded: r() < 0.5, responses: Array.from({ length: Math.floor(r() * 3) }, () => randomOp(r, depth - 1)) } };
}

describe('hand-written KV answer encoders', () => {
  it('decode as protobufjs encodings of the same answers do (400 random answers of each kind)', () => {
    const r = rng(20261122);
    for (let i = 0; i < 400; i++) {
      const h = header(r);
      const pbH = toHeader(h);
      const range: mvcc.RangeResponse = { revision: h.revision, kvs: kvs(r, 6), more: r() < 0.5, count: Math.floor(r() * 100) };
      const T = type('RangeResponse');
      expect(toObj(T, encodeRangeResponse(range, h).toBuffer())).toEqual(toObj(T, T.encode(T.fromObject(rangeToPb(range, pbH))).finish()));

      const put: mvcc.PutResponse = r() < 0.5 ? { revision: h.revision, prevKv: randomKv(r) } : { revision: h.revision };
      const P = type('PutResponse');
      expect(toObj(P, encodePutResponse(put, h).toBuffer())).toEqual(toObj(P, P.encode(P.fromObject(putToPb(put, pbH))).finish()));

      const del: mvcc.DeleteRangeResponse = { revision: h.revision, deleted: Math.floor(r() * 5), prevKvs: kvs(r, 4) };
      const D = type('DeleteRangeResponse');
      expect(toObj(D, encodeDeleteRangeResponse(del, h).toBuffer())).toEqual(toObj(D, D.encode(D.fromObject(deleteRangeToPb(del, pbH))).finish()));

      const txn: mvcc.TxnResponse = { revision: h.revision, succeeded: r() < 0.5, responses: Array.from({ length: Math.floor(r() * 4) }, () => randomOp(r, 2)) };
      const X = type('TxnResponse');
      expect(toObj(X, encodeTxnResponse(txn, h).toBuffer())).toEqual(toObj(X, X.encode(X.fromObject(txnToPb(txn, pbH))).finish()));
    }
  });

  it('reuses one scratch buffer: bytes() are valid until the next answer is written', () => {
    const h: HeaderFields = { clusterId: 'cdf818194e3a8c32', memberId: '8e9e05c52164694d', revision: 5, raftTerm: 2 };
    const kv: mvcc.KeyValue = { key: Buffer.from('k'), value: Buffer.alloc(100, 1), createRevision: 1, modRevision: 5, version: 3, lease: 0n };
    const a = encodeRangeResponse({ revision: 5, kvs: [kv], more: false, count: 1 }, h);
    const kept = a.toBuffer();
    const first = a.bytes();
    expect(first).toEqual(kept);
    const big = encodeRangeResponse({ revision: 5, kvs: Array.from({ length: 2000 }, () => kv), more: true, count: 2000 }, h).bytes();
    expect(big.length).toBeGreaterThan(200_000);
    expect(a.bytes()).toEqual(kept);
  });

  it("leaves zero scalars out, as Go's encoder does, and keeps a nested txn's empty header", () => {
    const h: HeaderFields = { clusterId: 'cdf818194e3a8c32', memberId: '8e9e05c52164694d', revision: 1, raftTerm: 2 };
    // header only: tag, length, then cluster_id and member_id (1+10 each: both ids are above 2^63), revision (2), raft_term (2)
    expect(encodePutResponse({ revision: 1 }, h).size).toBe(2 + 11 + 11 + 2 + 2);
    const nested = encodeTxnResponse({ revision: 1, succeeded: false, responses: [{ responseTxn: { revision: 1, succeeded: false, responses: [] } }] }, h).toBuffer();
    const X = type('TxnResponse');
    const decoded = X.decode(nested) as unknown as { responses: Array<{ response_txn: { header: object | null } }> };
    expect(decoded.responses[0]!.response_txn.header).not.toBeNull();
  });
});
