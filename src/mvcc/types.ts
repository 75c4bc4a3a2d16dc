// Internal request/response shapes of the MVCC store. They mirror etcd's
// etcdserverpb messages field for field (camelCase), so the API layer maps
// protobuf <-> these without thinking: Buffer keys/values, revisions as
// number (safe up to 2^53), lease ids as bigint (int64, 0n = no lease).

export interface KeyValue {
  /**
   * A Buffer, or a latin1 string straight from the key index, like value: a
   * 1,000-key range made a Buffer per key only to copy it into the answer,
   * ~170 of the ~290 µs its keys and values took to encode.
   */
  key: Buffer | string;
  createRevision: number;
  modRevision: number;
  version: number;
  /**
   * A Buffer, or a latin1 string (one char per byte) straight from the key
   * index: answers encoded by hand write it without an intermediate Buffer.
   */
  value: Buffer | string;
  lease: bigint;
}

export enum SortOrder {
  NONE = 0,
  ASCEND = 1,
  DESCEND = 2,
}

export enum SortTarget {
  KEY = 0,
  VERSION = 1,
  CREATE = 2,
  MOD = 3,
  VALUE = 4,
}

export interface RangeRequest {
  key: Buffer;
  /** Empty/absent: the single key. "\0": every key >= key. Otherwise [key, rangeEnd). */
  rangeEnd?: Buffer;
  limit?: number;
  /** <= 0: the current revision. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  /** Header revision: the store revision the answer was made at (not the requested revision). */
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Buffer;
  value?: Buffer;
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResponse {
  revision: number;
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  revision: number;
  deleted: number;
  prevKvs: KeyValue[];
}

export enum CompareResult {
  EQUAL = 0,
  GREATER = 1,
  LESS = 2,
  NOT_EQUAL = 3,
}

export enum CompareTarget {
  VERSION = 0,
  CREATE = 1,
  MOD = 2,
  VALUE = 3,
  LEASE = 4,
}

/**
 * etcd's Compare. Only the field matching `target` is read (the protobuf
 * oneof); a missing one compares against zero / the empty value, as etcd.
 */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Buffer;
  rangeEnd?: Buffer;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Buffer;
  lease?: bigint;
}

/** RequestOp: exactly one member set; none set is "etcdserver: key not found". */
export interface RequestOp {
  requestRange?: RangeRequest;
  requestPut?: PutRequest;
  requestDeleteRange?: DeleteRangeRequest;
  requestTxn?: TxnRequest;
}

export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  physical?: boolean;
}

export interface CompactionResponse {
  revision: number;
  /** Resolves once the superseded versions are gone from LevelDB. */
  physical: Promise<void>;
}

/** A request that goes through Raft and is applied with applyWrite. */
export type WriteRequest =
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest }
  | { compaction: CompactionRequest };

export type WriteResponse =
  | { put: PutResponse }
  | { deleteRange: DeleteRangeResponse }
  | { txn: TxnResponse }
  | { compaction: CompactionResponse };

export type EventType = 'PUT' | 'DELETE';

export interface Event {
  type: EventType;
  /** For DELETE only key and modRevision (the deletion revision) are set, as etcd. */
  kv: KeyValue;
  prevKv?: KeyValue;
}

/** All events of one applied write, in sub-revision order. */
export interface ChangeBatch {
  revision: number;
  events: Event[];
}

export interface HashKVResult {
  hash: number;
  compactRevision: number;
  hashRevision: number;
}
