// Wraps an async handler as a grpc-js unary method, turning etcd errors into
// their exact gRPC status and message, and anything unexpected into Unknown with
// its text (as etcd does for errors outside its table).
import * as grpc from '@grpc/grpc-js';
import { GrpcCode, isEtcdError } from '../errors';

export function statusOf(err: unknown): { code: grpc.status; details: string } {
  if (isEtcdError(err)) return { code: err.code as number as grpc.status, details: err.message };
  return { code: GrpcCode.Unknown as number as grpc.status, details: err instanceof Error ? err.message : String(err) };
}

/** An error a server stream ends with: emitted as 'error' on the call, grpc-js sends it as the status. */
export function streamError(err: unknown): Error & { code: grpc.status; details: string } {
  const { code, details } = statusOf(err);
  return Object.assign(new Error(details), { code, details });
}

/** Answers any kind of call with an error: a unary one through its callback, a stream by ending it. */
export function failCall(call: unknown, callback: grpc.sendUnaryData<unknown> | undefined, err: unknown): void {
  if (callback) callback(statusOf(err));
  else (call as NodeJS.EventEmitter).emit('error', streamError(err));
}

export function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let result: Promise<Res> | Res;
    try {
      result = fn(call.request, call);
    } catch (err) {
      callback(statusOf(err));
      return;
    }
    Promise.resolve(result).then(
      (res) => callback(null, res),
      (err: unknown) => callback(statusOf(err)),
    );
  };
}
