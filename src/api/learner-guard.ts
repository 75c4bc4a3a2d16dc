// A learner serves only what etcd 3.4 lets a learner serve: Maintenance.Status
// and serializable Range (KV applies the Range rule itself, on both its paths).
// Every other call, unary or streaming, is refused with "rpc not supported for
// learner", so clients move on to a voting member.
import type * as grpc from '@grpc/grpc-js';
import { Errors } from '../errors';
import { failCall } from './unary';

const ALWAYS_SERVED = new Set(['Maintenance.Status']);

export function guardLearner(
  service: string,
  handlers: grpc.UntypedServiceImplementation,
  isLearner: () => boolean,
): grpc.UntypedServiceImplementation {
  if (service === 'KV') return handlers;
  const out: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    if (ALWAYS_SERVED.has(`${service}.${method}`)) {
      out[method] = handler;
      continue;
    }
    const h = handler as (...args: unknown[]) => void;
    out[method] = ((call: unknown, callback?: grpc.sendUnaryData<unknown>) => {
      if (!isLearner()) return h(call, callback);
      failCall(call, callback, Errors.NotSupportedForLearner);
    }) as grpc.UntypedHandleCall;
  }
  return out;
}
