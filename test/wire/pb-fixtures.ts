// Shared by the hand-written encoder tests: etcd's message types loaded with
// protobufjs (the reference encoding), a seeded generator, random KeyValues and
// headers.
import * as protobuf from 'protobufjs';
import * as path from 'node:path';
import type { HeaderFields } from '../../src/api/pb-writer';
import { PROTO_DIR } from '../../src/api/proto';
import type * as mvcc from '../../src/mvcc/types';

export const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
root.loadSync('rpc.proto', { keepCase: true });
export const type = (name: string) => root.lookupType(`etcdserverpb.${name}`);
export const toObj = (t: protobuf.Type, bytes: Uint8Array) => t.toObject(t.decode(bytes), { longs: String, bytes: String, defaults: true, oneofs: true });

/** Seeded xorshift, so a failure replays. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * Random bytes, half the time as the latin1 string the key index hands out
 * (KeyValue.key and .value take both forms); lengths cross the writer's
 * char-by-char limit for strings.
 */
function bytesOrLatin1(r: () => number, b: Buffer): Buffer | string {
  return r() < 0.5 ? b : b.toString('latin1');
}

export function randomKv(r: () => number): mvcc.KeyValue {
  const big = r() < 0.1;
  return {
    key: bytesOrLatin1(r, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 60) }, () => Math.floor(r() * 256)))),
    value: bytesOrLatin1(r, Buffer.from(Array.from({ length: r() < 0.2 ? 0 : Math.floor(r() * 300) }, () => Math.floor(r() * 256)))),
    createRevision: big ? 2 ** 40 + Math.floor(r() * 1000) : Math.floor(r() * 1000),
    modRevision: Math.floor(r() * 100000),
    version: r() < 0.1 ? 0 : Math.floor(r() * 50),
    lease: r() < 0.5 ? 0n : r() < 0.5 ? BigInt(Math.floor(r() * 2 ** 50)) : 0x7fffffffffffffffn - BigInt(Math.floor(r() * 1000)),
  };
}

export function header(r: () => number): HeaderFields {
  return { clusterId: 'cdf818194e3a8c32', memberId: r() < 0.5 ? '8e9e05c52164694d' : 'ffffffffffffffff', revision: Math.floor(r() * 2 ** 33), raftTerm: 1 + Math.floor(r() * 40) };
}

