// gRPC access to the etcd v3 API for the benchmark: loads the .proto files once,
// opens one distinct HTTP/2 connection per channel, and wraps the few unary calls
// the workloads use as promises. Used by both worker threads and the main thread.

import { mark, tracing } from '../src/trace';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeRangeSummary, type RangeSummary } from './lean-decode';

/** The nearest directory with a package.json: the repo, whether this runs compiled
 * from dist/bench/ or from source under vitest. */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..', '..');
  }
}

const REPO_ROOT = findRepoRoot(__dirname);

/** The single place that says where rpc.proto lives. The project's own proto/
 * (wire-identical to etcd) is preferred once main has it; until then the copy
 * shipped with the etcd3 npm package is used. */
export const PROTO_DIR = fs.existsSync(path.join(REPO_ROOT, 'proto', 'rpc.proto'))
  ? path.join(REPO_ROOT, 'proto')
  : path.join(REPO_ROOT, 'node_modules', 'etcd3', 'proto');

// Minimal message shapes, as produced by proto-loader with keepCase/longs String.
export interface ResponseHeader { cluster_id: string; member_id: string; revision: string; raft_term: string }
export interface KeyValue { key: Buffer; mod_revision: string; version: string; value: Buffer }
export interface RangeRequest { key: Buffer; range_end?: Buffer; serializable?: boolean; limit?: number; keys_only?: boolean; count_only?: boolean }
export interface RangeResponse { header: ResponseHeader; kvs: KeyValue[]; count: string }
export interface PutRequest { key: Buffer; value: Buffer }
export interface PutResponse { header: ResponseHeader }
// Enums go out as numbers: etcd3's copy of rpc.proto names them Equal/Mod while
// etcd's own (and ours) says EQUAL/MOD; the wire values are the same in both.
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3 } as const;
export interface Compare { result: number; target: number; key: Buffer; mod_revision?: string; version?: string }
export interface RequestOp { request_put?: PutRequest; request_range?: RangeRequest }
export interface TxnRequest { compare: Compare[]; success: RequestOp[]; failure: RequestOp[] }
export interface ResponseOp { response_range?: RangeResponse; response_put?: PutResponse }
export interface TxnResponse { header: ResponseHeader; succeeded: boolean; responses: ResponseOp[] }
export interface StatusResponse { header: ResponseHeader; version: string; dbSize: string; leader: string; raftTerm: string }

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;
type ServiceCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => grpc.Client;

let definition: protoLoader.PackageDefinition | undefined;

/** The parsed .proto files (serializers per method), loaded once per thread. */
export function loadDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(path.join(PROTO_DIR, 'rpc.proto'), {
    keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR],
  });
  return definition;
}

let services: { KV: ServiceCtor; Maintenance: ServiceCtor; LeanRange: ServiceCtor } | undefined;

function loadServices(): { KV: ServiceCtor; Maintenance: ServiceCtor; LeanRange: ServiceCtor } {
  if (services) return services;
  const pkg = grpc.loadPackageDefinition(loadDefinition()) as unknown as { etcdserverpb: { KV: grpc.ServiceClientConstructor; Maintenance: ServiceCtor } };
  const KV = pkg.etcdserverpb.KV;
  const range = KV.service['Range']!;
  const LeanRange = grpc.makeGenericClientConstructor({ Range: { ...range, responseDeserialize: decodeRangeSummary } }, 'KV');
  services = { KV, Maintenance: pkg.etcdserverpb.Maintenance, LeanRange };
  return services;
}

let channelSeq = 0;

/** A channel with its own subchannel pool and a unique option, so grpc-js opens a
 * new TCP connection for it instead of sharing one with an equal-looking channel. */
export function openChannel(endpoint: string): grpc.Channel {
  const target = endpoint.replace(/^https?:\/\//, '');
  return new grpc.Channel(target, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'bench.connection_id': `${process.pid}-${channelSeq++}-${Math.random()}`,
    'grpc.enable_channelz': 0, // channelz bookkeeping costs CPU on every call
    'grpc.enable_retries': 0, // the retry layer buffers every message; the benchmark never retries
    'grpc.max_receive_message_length': 64 * 1024 * 1024, // 1000-key ranges and beyond
  });
}

function promisify<Req, Res>(client: grpc.Client, name: string): (req: Req) => Promise<Res> {
  const fn = (client as unknown as Record<string, Unary<Req, Res>>)[name];
  if (typeof fn !== 'function') throw new Error(`service has no method ${name}`);
  return (req) => new Promise<Res>((resolve, reject) => {
    // bench/timeline.ts: when the client starts a call and when it has the whole answer.
    if (tracing) mark('call');
    fn.call(client, req, (err, res) => {
      if (tracing) mark('reply');
      if (err) reject(err);
      else resolve(res);
    });
  });
}

/** The calls one benchmark client needs, bound to one channel. */
export interface EtcdClient {
  range(req: RangeRequest): Promise<RangeResponse>;
  /** The same call, read with the lean reader (lean-decode.ts): how many kvs, and the count field. */
  rangeSummary(req: RangeRequest): Promise<RangeSummary>;
  put(req: PutRequest): Promise<PutResponse>;
  txn(req: TxnRequest): Promise<TxnResponse>;
  status(): Promise<StatusResponse>;
  close(): void;
}

export function clientOn(channel: grpc.Channel, endpoint: string): EtcdClient {
  const { KV, Maintenance, LeanRange } = loadServices();
  const target = endpoint.replace(/^https?:\/\//, '');
  const creds = grpc.credentials.createInsecure();
  const kv = new KV(target, creds, { channelOverride: channel });
  const mt = new Maintenance(target, creds, { channelOverride: channel });
  const lean = new LeanRange(target, creds, { channelOverride: channel });
  const status = promisify<object, StatusResponse>(mt, 'Status');
  return {
    range: promisify(kv, 'Range'),
    rangeSummary: promisify(lean, 'Range'),
    put: promisify(kv, 'Put'),
    txn: promisify(kv, 'Txn'),
    status: () => status({}),
    close: () => channel.close(),
  };
}

/** Resolves once the channel is connected, or rejects after `timeoutMs`. */
export function waitReady(channel: grpc.Channel, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return resolve();
      if (Date.now() >= deadline) return reject(new Error(`connection to ${channel.getTarget()} not ready`));
      channel.watchConnectivityState(state, deadline, () => check());
    };
    check();
  });
}

/** One-shot Status call against an endpoint on a throwaway connection. */
export async function statusOf(endpoint: string, timeoutMs = 2000): Promise<StatusResponse> {
  const ch = openChannel(endpoint);
  try {
    await waitReady(ch, timeoutMs);
    return await clientOn(ch, endpoint).status();
  } finally {
    ch.close();
  }
}
