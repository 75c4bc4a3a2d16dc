// The KV service: decode, validate before anything is proposed (so a bad
// request changes nothing), run, and answer with the header of the moment.
// Answers leave as bytes from encode-kv.ts (the server passes Buffers through).
import type * as grpc from '@grpc/grpc-js';
import { validateDeleteRange, validatePut, validateRange, validateTxn } from '../mvcc/validate';
import type { EtcdServer } from '../server/etcd-server';
import { deleteRangeFromPb, putFromPb, rangeFromPb, txnFromPb } from './convert';
import { encodeDeleteRangeResponse, encodePutResponse, encodeRangeResponse, encodeTxnResponse } from './encode-kv';
import { toHeader } from './header';
import type * as pb from './pb';
import { unary } from './unary';

/** The KV methods as plain functions of the decoded request (the fast path serves them as they are). */
export function kvHandlers(server: EtcdServer, limits: { maxTxnOps: number }): Record<string, (req: never) => Promise<unknown>> {
  return {
    Range: async (req: pb.RangeRequest__Output) => {
      const r = rangeFromPb(req);
      validateRange(r);
      const res = await server.range(r);
      return encodeRangeResponse(res, { ...server.header(), revision: res.revision });
    },
    Put: async (req: pb.PutRequest__Output) => {
      const r = putFromPb(req);
      validatePut(r);
      const res = await server.put(r);
      return encodePutResponse(res, { ...server.header(), revision: res.revision });
    },
    DeleteRange: async (req: pb.DeleteRangeRequest__Output) => {
      const r = deleteRangeFromPb(req);
      validateDeleteRange(r);
      const res = await server.deleteRange(r);
      return encodeDeleteRangeResponse(res, { ...server.header(), revision: res.revision });
    },
    Txn: async (req: pb.TxnRequest__Output) => {
      const r = txnFromPb(req);
      validateTxn(r, limits.maxTxnOps);
      const res = await server.txn(r);
      return encodeTxnResponse(res, { ...server.header(), revision: res.revision });
    },
    Compact: async (req: pb.CompactionRequest__Output) => {
      const res = await server.compact({ revision: Number(req.revision), physical: req.physical });
      return { header: toHeader(server.header(), res.revision) } satisfies pb.CompactionResponse;
    },
  };
}

export function kvService(handlers: Record<string, (req: never) => Promise<unknown>>): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(handlers)) out[name] = unary(fn as (req: unknown) => Promise<unknown>);
  return out;
}
