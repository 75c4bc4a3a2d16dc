// The KV service: decode, validate before anything is proposed (so a bad
// request changes nothing), run, and answer with the header of the moment.
// Answers leave as bytes from encode-kv.ts (the server passes Buffers through).
import type * as grpc from '@grpc/grpc-js';
import type { AuthGate } from '../auth/auth-gate';
import type { AuthInfo } from '../auth/auth-store';
import { isTxnReadOnly } from '../mvcc/readonly';
import { validateDeleteRange, validatePut, validateRange, validateTxn } from '../mvcc/validate';
import type { EtcdServer } from '../server/etcd-server';
import { deleteRangeFromPb, putFromPb, rangeFromPb, txnFromPb } from './convert';
import { encodeDeleteRangeResponse, encodePutResponse, encodeRangeResponse, encodeTxnResponse } from './encode-kv';
import { toHeader } from './header';
import type * as pb from './pb';
import { unary } from './unary';
import { tokenOf } from './call-token';
import { Errors } from '../errors';

/** A KV method as a plain function of the decoded request and the call's auth token (the fast path serves them as they are). */
export type KvHandler = (req: never, token?: string) => Promise<unknown>;

export function kvHandlers(
  server: EtcdServer,
  limits: { maxTxnOps: number; isLearner?: () => boolean; auth?: AuthGate },
): Record<string, KvHandler> {
  const auth = limits.auth;
  // Who calls, from the token. Without one nothing is awaited: the common case
  // (auth off, no token) stays synchronous. Reads are checked here; a write's
  // entry carries its caller while auth is on, to be checked when applied.
  const callerOf = async (token: string | undefined): Promise<AuthInfo | undefined> => {
    const pending = auth?.identify(token);
    return pending && (await pending);
  };
  const authorOf = async (token: string | undefined): Promise<AuthInfo | undefined> => auth?.author(await callerOf(token));
  // A learner serves serializable ranges only, as in etcd 3.4.
  const voterOnly = (): void => {
    if (limits.isLearner?.()) throw Errors.NotSupportedForLearner;
  };
  return {
    Range: async (req: pb.RangeRequest__Output, token?: string) => {
      if (!req.serializable) voterOnly();
      const r = rangeFromPb(req);
      validateRange(r);
      if (auth && (token !== undefined || auth.store.enabled)) auth.checkRange(await callerOf(token), r);
      const res = await server.range(r);
      return encodeRangeResponse(res, { ...server.header(), revision: res.revision });
    },
    Put: async (req: pb.PutRequest__Output, token?: string) => {
      voterOnly();
      const r = putFromPb(req);
      validatePut(r);
      const res = await server.put(r, token === undefined ? undefined : await authorOf(token));
      return encodePutResponse(res, { ...server.header(), revision: res.revision });
    },
    DeleteRange: async (req: pb.DeleteRangeRequest__Output, token?: string) => {
      voterOnly();
      const r = deleteRangeFromPb(req);
      validateDeleteRange(r);
      const res = await server.deleteRange(r, token === undefined ? undefined : await authorOf(token));
      return encodeDeleteRangeResponse(res, { ...server.header(), revision: res.revision });
    },
    Txn: async (req: pb.TxnRequest__Output, token?: string) => {
      voterOnly();
      const r = txnFromPb(req);
      validateTxn(r, limits.maxTxnOps);
      const caller = token === undefined ? undefined : await callerOf(token);
      if (auth && (token !== undefined || auth.store.enabled) && isTxnReadOnly(r)) auth.checkReadTxn(caller, r);
      const res = await server.txn(r, auth?.author(caller));
      return encodeTxnResponse(res, { ...server.header(), revision: res.revision });
    },
    Compact: async (req: pb.CompactionRequest__Output, token?: string) => {
      voterOnly();
      if (token !== undefined) await callerOf(token); // an unknown token is refused
      const res = await server.compact({ revision: Number(req.revision), physical: req.physical });
      return { header: toHeader(server.header(), res.revision) } satisfies pb.CompactionResponse;
    },
  };
}

export function kvService(handlers: Record<string, KvHandler>): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(handlers)) {
    const h = fn as (req: unknown, token?: string) => Promise<unknown>;
    out[name] = unary((req: unknown, call) => h(req, tokenOf(call.metadata)));
  }
  return out;
}
