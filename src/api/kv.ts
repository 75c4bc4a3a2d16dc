// The KV service: decode, validate before anything is proposed (so a bad
// request changes nothing), run, and answer with the header of the moment.
// Answers leave as bytes from encode-kv.ts (the server passes Buffers through).
import type * as grpc from '@grpc/grpc-js';
import { TOKEN_KEY, type AuthGate } from '../auth/auth-gate';
import type { AuthInfo } from '../auth/auth-store';
import { isTxnReadOnly } from '../mvcc/readonly';
import { validateDeleteRange, validatePut, validateRange, validateTxn } from '../mvcc/validate';
import type { EtcdServer } from '../server/etcd-server';
import { deleteRangeFromPb, putFromPb, rangeFromPb, txnFromPb } from './convert';
import { encodeDeleteRangeResponse, encodePutResponse, encodeRangeResponse, encodeTxnResponse } from './encode-kv';
import { toHeader } from './header';
import type * as pb from './pb';
import { unary } from './unary';
import { Errors } from '../errors';

/** The KV methods as plain functions of the decoded request (the fast path serves them as they are). */
/** A KV method as a plain function of the decoded request and the call's auth token. */
export type KvHandler = (req: never, token?: string) => Promise<unknown>;

export function kvHandlers(
  server: EtcdServer,
  limits: { maxTxnOps: number; isLearner?: () => boolean; auth?: AuthGate },
): Record<string, KvHandler> {
  const auth = limits.auth;
  // The caller of a write, carried in its entry when auth is on (checked at apply).
  // No token and no auth costs nothing here: the common case stays synchronous.
  const authorOf = async (token: string | undefined): Promise<AuthInfo | undefined> => (auth && token !== undefined ? auth.author(token) : undefined);
  // A learner serves serializable ranges only, as in etcd 3.4.
  const voterOnly = (): void => {
    if (limits.isLearner?.()) throw Errors.NotSupportedForLearner;
  };
  return {
    Range: async (req: pb.RangeRequest__Output, token?: string) => {
      if (!req.serializable) voterOnly();
      const r = rangeFromPb(req);
      validateRange(r);
      if (auth && (token !== undefined || auth.store.enabled)) auth.checkRange(await auth.who(token), r);
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
      const who = token === undefined ? undefined : await authorOf(token);
      if (auth && (token !== undefined || auth.store.enabled) && isTxnReadOnly(r)) auth.checkReadTxn(await auth.who(token), r);
      const res = await server.txn(r, who);
      return encodeTxnResponse(res, { ...server.header(), revision: res.revision });
    },
    Compact: async (req: pb.CompactionRequest__Output, token?: string) => {
      voterOnly();
      if (token !== undefined) await authorOf(token);
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

/** The call's auth token (etcd's `token` metadata), if any. */
export function tokenOf(md: grpc.Metadata): string | undefined {
  const v = md.get(TOKEN_KEY)[0];
  return v === undefined ? undefined : String(v);
}
