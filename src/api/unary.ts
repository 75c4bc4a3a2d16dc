// Wraps an async handler as a grpc-js unary method, turning etcd errors into
// their exact gRPC status and message, and anything unexpected into Unknown with
// its text (as etcd does for errors outside its table).
import * as grpc from '@grpc/grpc-js';
import { GrpcCode, isEtcdError } from '../errors';

export function statusOf(err: unknown): { code: grpc.status; details: string } {
  if (isEtcdError(err)) return { code: err.code as number as grpc.status, details: err.message };
  return { code: GrpcCode.Unknown as number as grpc.status, details: err instanceof Error ? err.message : String(err) };
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
