// Loads the wire contract in proto/ once, for the gRPC server and for clients
// built into the project (benchmarks, tests). The loader options are the ones
// the generated types in src/gen/ were made with, so handlers can use them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';

/** proto/ at the repository root; found upwards so both src/ (tests) and dist/src/ work. */
export const PROTO_DIR = findProtoDir(__dirname);

function findProtoDir(from: string): string {
  for (let dir = from, i = 0; i < 8; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, 'rpc.proto'))) return candidate;
  }
  throw new Error(`proto/rpc.proto not found above ${from}`);
}

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

/** The six etcd services, plus the standard health service etcd also serves. */
export const SERVICE_NAMES = ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

let cached: grpc.GrpcObject | undefined;

export function loadEtcdProto(): grpc.GrpcObject {
  if (!cached) {
    const def = protoLoader.loadSync(['rpc.proto', 'health.proto'], LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(def);
  }
  return cached;
}

export function serviceDefinition(name: ServiceName): grpc.ServiceDefinition {
  const pkg = loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject;
  return (pkg[name] as grpc.ServiceClientConstructor).service;
}

export function healthServiceDefinition(): grpc.ServiceDefinition {
  const pkg = ((loadEtcdProto()['grpc'] as grpc.GrpcObject)['health'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject;
  return (pkg['Health'] as grpc.ServiceClientConstructor).service;
}
