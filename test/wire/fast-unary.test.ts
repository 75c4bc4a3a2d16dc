// The KV fast path (src/api/fast-unary.ts) against grpc-js's own route: two
// client servers with the same handlers, one with the fast path in front,
// must give every client the same answers, the same errors (code and text)
// and the same deadline and size behaviour. The handlers are small stand-ins
// for the KV service: what is under test is the transport, not the store.
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientServer } from '../../src/api/grpc-server';
import { encodeGrpcMessage, parseTimeout } from '../../src/api/fast-unary';
import { encodePutResponse, encodeRangeResponse } from '../../src/api/encode-kv';
import { Errors } from '../../src/errors';
import { unary } from '../../src/api/unary';
import { freePort } from '../support/ports';
import { call, kvClient } from '../support/cluster';

const MAX_REQUEST = 4096;
const header = { clusterId: '11', memberId: '22', revision: 5, raftTerm: 3 };

interface Req { key?: Buffer; value?: Buffer; revision?: string }

function handlers() {
  const slow: Array<() => void> = [];
  return {
    slow,
    kv: {
      Range: async (req: Req) => encodeRangeResponse(
        { revision: 5, kvs: [{ key: req.key!, value: Buffer.from('v'), createRevision: 2, modRevision: 5, version: 3, lease: 0n }], more: false, count: 1 },
        header,
      ),
      Put: async (req: Req) => {
        if (!req.key || req.key.length === 0) throw Errors.EmptyKey;
        if (req.key.toString() === 'boom') throw new Error('not an etcd error');
        return encodePutResponse({ revision: 6 }, header);
      },
      // Answers only when the test lets it (deadline and cancellation cases).
      DeleteRange: (_req: Req) => new Promise<never>((_resolve, reject) => slow.push(() => reject(Errors.Timeout))),
      // A plain object: the method's own serializer writes it.
      Compact: async (req: Req) => ({ header: { revision: req.revision ?? '0' } }),
    } as Record<string, (req: never) => Promise<unknown>>,
  };
}

type Server = { srv: ClientServer; url: string; slow: Array<() => void>; open: () => void };

async function start(fast: boolean): Promise<Server> {
  const port = await freePort();
  const h = handlers();
  let open!: () => void;
  const ready = new Promise<void>((resolve) => (open = resolve));
  const srv = new ClientServer({
    listenUrls: [new URL(`http://127.0.0.1:${port}`)],
    maxRequestBytes: MAX_REQUEST,
    handlers: { KV: Object.fromEntries(Object.entries(h.kv).map(([k, fn]) => [k, unaryOf(fn)])) },
    fast: fast ? { KV: h.kv } : undefined,
    isServing: () => true,
    ready,
    logger: pino({ level: 'silent' }),
  });
  await srv.start();
  return { srv, url: `127.0.0.1:${port}`, slow: h.slow, open };
}

// What kv.ts does for grpc-js's route.
function unaryOf(fn: (req: never) => Promise<unknown>): grpc.UntypedHandleCall {
  return unary(fn as (req: unknown) => Promise<unknown>) as grpc.UntypedHandleCall;
}

/** A gRPC call by hand, so the test controls the framing and the client enforces no deadline. */
function rawCall(
  url: string,
  path: string,
  body: Buffer,
  extra: Record<string, string> = {},
  onHeaders?: (names: string[]) => void,
): Promise<{ status: string; message: string; data: number }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${url}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    let data = 0;
    let head: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      head = h;
      onHeaders?.(Object.keys(h));
    });
    req.on('data', (c: Buffer) => (data += c.length));
    req.on('trailers', (t) => (head = { ...head, ...t }));
    req.on('close', () => {
      session.close();
      // Decoded as clients decode it: the two routes percent-encode differently
      // (encodeGrpcMessage below), the text is the same.
      resolve({ status: String(head['grpc-status']), message: decodeURIComponent(String(head['grpc-message'] ?? '')), data });
    });
    req.end(body);
  });
}

function framed(...messages: Buffer[]): Buffer {
  return Buffer.concat(messages.map((m) => Buffer.concat([Buffer.from([0, 0, 0, 0, 0]).fill(0), m]).fill(m.length, 4, 5)));
}

const outcome = (p: Promise<unknown>) => p.then((v) => ({ ok: v }), (e: { code: number; details: string }) => ({ code: e.code, details: e.details }));

let fast: Server;
let plain: Server;
beforeAll(async () => {
  [fast, plain] = await Promise.all([start(true), start(false)]);
});
afterAll(async () => {
  await Promise.all([fast?.srv.stop(100), plain?.srv.stop(100)]);
});

describe('the KV fast path', () => {
  it('holds calls until the member is ready, then answers them through grpc-js', async () => {
    const early = [fast, plain].map((s) => outcome(call(kvClient(s.url), 'Range', { key: Buffer.from('a') })));
    await new Promise((r) => setTimeout(r, 100));
    fast.open();
    plain.open();
    const [a, b] = await Promise.all(early);
    expect(a).toEqual(b);
    expect(a).toHaveProperty('ok');
    expect(fast.srv.fastCalls).toBe(0);
  });

  it('answers, errors and limits exactly as grpc-js does, and takes the calls itself', async () => {
    const before = fast.srv.fastCalls;
    const cases: Array<[string, object]> = [
      ['Range', { key: Buffer.from('abc') }],
      ['Put', { key: Buffer.from('k'), value: Buffer.from('v') }],
      ['Put', { key: Buffer.alloc(0), value: Buffer.from('v') }],
      ['Put', { key: Buffer.from('boom') }],
      ['Put', { key: Buffer.from('k'), value: Buffer.alloc(MAX_REQUEST + 600 * 1024, 1) }],
      ['Compact', { revision: '9' }],
    ];
    for (const [method, req] of cases) {
      const [a, b] = await Promise.all([fast, plain].map((s) => outcome(call(kvClient(s.url), method, req))));
      expect(a, `${method} ${JSON.stringify(req).slice(0, 60)}`).toEqual(b);
    }
    expect(fast.srv.fastCalls - before).toBe(cases.length);
  });

  it('answers malformed framing as grpc-js does', async () => {
    const range = Buffer.from([0x0a, 0x01, 0x61]); // RangeRequest{key: "a"}
    // [request body, whether grpc-js answers it with OK]
    const bodies: Array<[Buffer, boolean]> = [
      [Buffer.alloc(0), false],
      [framed(range).subarray(0, 6), false],
      [framed(range, range), false],
      [framed(Buffer.from([0x0a, 0x09, 0x61])), false],
      // The compression flag without a grpc-encoding header: grpc-js reads plain bytes.
      [Buffer.concat([Buffer.from([1]), framed(range).subarray(1)]), true],
    ];
    for (const [body, ok] of bodies) {
      const [a, b] = await Promise.all([fast, plain].map((s) => rawCall(s.url, '/etcdserverpb.KV/Range', body)));
      // A success's grpc-message is etcd's empty one on the fast path, grpc-js's "OK" on its route.
      if (a.status === '0') expect([a.message, b.message]).toEqual(['', 'OK']);
      expect({ ...a, message: '' }, body.toString('hex')).toEqual({ ...b, message: '' });
      if (a.status !== '0') expect(a.message, body.toString('hex')).toBe(b.message);
      expect(a.status === '0', body.toString('hex')).toBe(ok);
    }
  });

  it('answers with the headers and trailers etcd (grpc-go) sends, and no date', async () => {
    // What etcd 3.4 sends, read off the wire with the same raw call: headers
    // :status and content-type, trailers grpc-status and an empty grpc-message;
    // an error is all four in one HEADERS frame.
    const body = framed(Buffer.from([0x0a, 0x01, 0x61]));
    let names: string[] = [];
    const r = await rawCall(fast.url, '/etcdserverpb.KV/Range', body, {}, (n) => (names = n));
    expect(r).toMatchObject({ status: '0', message: '' });
    expect(names.sort()).toEqual([':status', 'content-type']);
    let errNames: string[] = [];
    const e = await rawCall(fast.url, '/etcdserverpb.KV/Put', framed(Buffer.from([0x12, 0x01, 0x76])), {}, (n) => (errNames = n));
    expect(e.status).toBe(String(grpc.status.INVALID_ARGUMENT));
    expect(errNames.sort()).toEqual([':status', 'content-type', 'grpc-message', 'grpc-status']);
  });

  it('ends a call at its deadline as grpc-js does, and survives the late answer', async () => {
    const body = framed(Buffer.from([0x0a, 0x01, 0x78]));
    const [a, b] = await Promise.all([fast, plain].map((s) => rawCall(s.url, '/etcdserverpb.KV/DeleteRange', body, { 'grpc-timeout': '200m' })));
    expect(a).toEqual(b);
    expect(a.status).toBe(String(grpc.status.DEADLINE_EXCEEDED));
    for (const s of [fast, plain]) for (const f of s.slow.splice(0)) f();
    // The server still answers after a late rejection on a closed stream.
    expect(await outcome(call(kvClient(fast.url), 'Range', { key: Buffer.from('a') }))).toHaveProperty('ok');
  });

  it('leaves compressed requests to grpc-js, which still answers them', async () => {
    const before = fast.srv.fastCalls;
    const c = new (kvClient(fast.url).constructor as grpc.ServiceClientConstructor)(fast.url, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2, // gzip
    });
    try {
      const r = await call<{ header: { revision: string } }>(c, 'Put', { key: Buffer.from('z'), value: Buffer.alloc(100, 7) });
      expect(r.header.revision).toBe('5');
    } finally {
      c.close();
    }
    expect(fast.srv.fastCalls).toBe(before);
  });

  it('percent-encodes grpc-message as the gRPC spec and grpc-go do', () => {
    expect(encodeGrpcMessage('etcdserver: key is not provided')).toBe('etcdserver: key is not provided');
    expect(encodeGrpcMessage('100% "done" <ok>')).toBe('100%25 "done" <ok>');
    expect(encodeGrpcMessage('tab\there\nnext')).toBe('tab%09here%0Anext');
    expect(encodeGrpcMessage('clé ✓')).toBe('cl%C3%A9 %E2%9C%93');
    for (const s of ['100% "done"', 'clé ✓', 'tab\there']) expect(decodeURIComponent(encodeGrpcMessage(s))).toBe(s);
  });

  it('reads grpc-timeout as gRPC defines it', () => {
    expect(parseTimeout('5S')).toBe(5000);
    expect(parseTimeout('200m')).toBe(200);
    expect(parseTimeout('2M')).toBe(120_000);
    expect(parseTimeout('1H')).toBe(3_600_000);
    expect(parseTimeout('1500u')).toBe(2);
    expect(parseTimeout('10n')).toBe(1);
    expect(parseTimeout('123456789S')).toBeNull();
    expect(parseTimeout('5s')).toBeNull();
    expect(parseTimeout('')).toBeNull();
  });
});
