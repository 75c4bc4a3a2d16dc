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
import { Errors } from '../errors';

/** The KV methods as plain functions of the decoded request (the fast path serves them as they are). */
export function kvHandlers(
  server: EtcdServer,
  limits: { maxTxnOps: number; isLearner?: () => boolean },
): Record<string, (req: never) => Promise<unknown>> {
  // A learner serves serializable ranges only, as in etcd 3.4.
  const voterOnly = (): void => {
    if (limits.isLearner?.()) throw Errors.NotSupportedForLearner;
  };
  return {
    Range: async (req: pb.RangeRequest__Output) => {
      if (!req.serializable) voterOnly();
      const r = rangeFromPb(req);
      validateRange(r);
      const res = await server.range(r);
      return encodeRangeResponse(res, { ...server.header(), revision: res.revision });
    },
    Put: async (req: pb.PutRequest__Output) => {
      voterOnly();
      const r = putFromPb(req);
      validatePut(r);
      const res = await server.put(r);
      return encodePutResponse(res, { ...server.header(), revision: res.revision });
    },
    DeleteRange: async (req: pb.DeleteRangeRequest__Output) => {
      voterOnly();
      const r = deleteRangeFromPb(req);
      validateDeleteRange(r);
      const res = await server.deleteRange(r);
      return encodeDeleteRangeResponse(res, { ...server.header(), revision: res.revision });
    },
    Txn: async (req: pb.TxnRequest__Output) => {
      voterOnly();
      const r = txnFromPb(req);
      validateTxn(r, limits.maxTxnOps);
      const res = await server.txn(r);
      return encodeTxnResponse(res, { ...server.header(), revision: res.revision });
    },
    Compact: async (req: pb.CompactionRequest__Output) => {
      voterOnly();
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
