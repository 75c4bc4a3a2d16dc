// The lean raw-HTTP/2 client against a grpc-js server speaking the same proto:
// replies decode to the same objects, and gRPC errors (sent trailers-only) come
// back with their code and text, as the benchmark's error report needs.

import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawClient } from '../../bench/rpc-raw';
import { loadDefinition, type RangeRequest } from '../../bench/rpc';

let PORT = 0;
let server: grpc.Server;

/** Binds to a free port in 43900-43999 (the range this project's tests may use). */
async function bindInRange(s: grpc.Server): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 43900 + Math.floor(Math.random() * 100);
    try {
      await new Promise<void>((resolve, reject) => {
        s.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
      });
      return port;
    } catch (err) {
      if (attempt >= 20) throw err;
    }
  }
}

const header = { cluster_id: '1', member_id: '2', revision: '7', raft_term: '3' };

beforeAll(async () => {
  const pkg = grpc.loadPackageDefinition(loadDefinition()) as unknown as {
    etcdserverpb: { KV: { service: grpc.ServiceDefinition } };
  };
  server = new grpc.Server();
  server.addService(pkg.etcdserverpb.KV.service, {
    Range: (call: grpc.ServerUnaryCall<RangeRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      if (call.request.key.length === 0) {
        cb({ code: grpc.status.INVALID_ARGUMENT, details: 'etcdserver: key is not provided' });
        return;
      }
      cb(null, { header, kvs: [{ key: call.request.key, value: Buffer.from('v'), mod_revision: '5', version: '1' }], count: '1' });
    },
  });
  PORT = await bindInRange(server);
});

afterAll(() => {
  server.forceShutdown();
});

describe('raw http2 client', () => {
  it('decodes a unary reply like grpc-js does', async () => {
    const { client, ready } = rawClient(`http://127.0.0.1:${PORT}`, 5000);
    await ready;
    const res = await client.range({ key: Buffer.from('k1'), serializable: true });
    expect(res.header.revision).toBe('7');
    expect(res.kvs[0]?.key.toString()).toBe('k1');
    expect(res.kvs[0]?.mod_revision).toBe('5');
    client.close();
  });

  it('reports gRPC errors with code and details', async () => {
    const { client, ready } = rawClient(`http://127.0.0.1:${PORT}`, 5000);
    await ready;
    await expect(client.range({ key: Buffer.alloc(0) })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'etcdserver: key is not provided',
    });
    client.close();
  });
});
