// The generated protobuf types (src/gen/, from proto/ at build time) under short
// names, for the handlers and converters.
export type { ResponseHeader } from '../gen/etcdserverpb/ResponseHeader';
export type { RangeRequest__Output } from '../gen/etcdserverpb/RangeRequest';
export type { RangeResponse } from '../gen/etcdserverpb/RangeResponse';
export type { PutRequest__Output } from '../gen/etcdserverpb/PutRequest';
export type { PutResponse } from '../gen/etcdserverpb/PutResponse';
export type { DeleteRangeRequest__Output } from '../gen/etcdserverpb/DeleteRangeRequest';
export type { DeleteRangeResponse } from '../gen/etcdserverpb/DeleteRangeResponse';
export type { TxnRequest__Output } from '../gen/etcdserverpb/TxnRequest';
export type { TxnResponse } from '../gen/etcdserverpb/TxnResponse';
export type { Compare__Output } from '../gen/etcdserverpb/Compare';
export type { RequestOp__Output } from '../gen/etcdserverpb/RequestOp';
export type { ResponseOp } from '../gen/etcdserverpb/ResponseOp';
export type { CompactionRequest__Output } from '../gen/etcdserverpb/CompactionRequest';
export type { CompactionResponse } from '../gen/etcdserverpb/CompactionResponse';
export type { KeyValue } from '../gen/mvccpb/KeyValue';
