// A lean path for the hottest unary calls (the KV service), served straight on
// node's HTTP/2 stream instead of through grpc-js's server call objects.
// grpc-js builds, per call, a metadata object, an intercepting call with its
// listener chain, a readable and a writable stream, and a deadline timer.
// Without them (A/B, 100 clients against the leader of 3 members): cluster CPU
// per serializable get 83-87 -> 57-68 µs, per put 257-311 -> 228-247 µs.
// Everything else (other services, compressed requests, calls that
// arrive before the member is ready) is left to grpc-js, which still owns the
// listening socket: this path sits in front of grpc-js's 'stream' listener
// and hands on what it does not take. Its answers, errors included, are the
// ones grpc-js gives (test/wire/fast-unary.test.ts compares the two routes).

import type * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { GrpcCode } from '../errors';
import { EncodedAnswer } from './encode-kv';
import { statusOf } from './unary';
import { mark, tracing } from '../trace';
import { OneWriteAnswer, type ResponseOptions } from './one-write-answer';

/** A unary method served here: decode, run, encode (serialize as passBuffersThrough makes it). */
export interface FastMethod {
  deserialize(bytes: Buffer): unknown;
  /** `token`: the call's auth token metadata, if any. */
  handle(req: unknown, token?: string): Promise<unknown>;
  serialize(res: unknown): Buffer;
}

const HEADER_PREFIX = 5;

/**
 * Headers and trailers of every answer, as etcd 3.4 (grpc-go) sends them, seen
 * on the wire: `:status` and plain application/grpc, then `grpc-status` and an
 * empty `grpc-message`; an error is the four in one HEADERS frame. No `date`:
 * node adds one to each response unless told not to (sendDate), which cost a clock
 * read, an HPACK literal and the client's parsing of it on every call.
 */
const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc',
};

const TRAILERS_OK = { 'grpc-status': '0', 'grpc-message': '' };

/** Headers, the message and trailers of a successful answer, in one socket write. */
const ANSWER = new OneWriteAnswer(RESPONSE_HEADERS, TRAILERS_OK);

const SEND_STATUS: ResponseOptions = { endStream: true, sendDate: false };

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => void;

export class FastUnary {
  private readonly methods = new Map<string, FastMethod>();
  /** Calls taken by this path. */
  served = 0;

  constructor(
    private readonly maxReceiveBytes: number,
    private readonly ready: () => boolean,
    /** A status to answer instead of running the call (a "hasleader" call without a leader). */
    private readonly refuse: (headers: http2.IncomingHttpHeaders) => { code: number; details: string } | undefined = () => undefined,
  ) {}

  add(path: string, m: FastMethod): void {
    this.methods.set(path, m);
  }

  get size(): number {
    return this.methods.size;
  }

  /**
   * Puts this path in front of the listeners an HTTP/2 server already has for
   * 'stream' (grpc-js's), which then see only the streams it passes on.
   */
  attach(server: http2.Http2Server): void {
    const others = server.listeners('stream') as unknown as StreamListener[];
    server.removeAllListeners('stream');
    server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
      if (tracing) mark('stream');
      const m = this.take(headers);
      if (m) this.serve(stream, headers, m, headers[':path'] as string);
      else for (const l of others) l.call(server, stream, headers, ...rest);
    });
  }

  private take(headers: http2.IncomingHttpHeaders): FastMethod | undefined {
    if (!this.ready()) return undefined;
    const m = this.methods.get(headers[':path'] as string);
    if (m === undefined) return undefined;
    if (headers[':method'] !== 'POST') return undefined;
    const ct = headers['content-type'];
    if (typeof ct !== 'string' || !ct.startsWith('application/grpc')) return undefined;
    const enc = headers['grpc-encoding'];
    if (enc !== undefined && enc !== 'identity') return undefined;
    return m;
  }

  private serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, m: FastMethod, path: string): void {
    this.served++;
    // A reset or broken stream shows as 'close' too, which is what ends the call here.
    stream.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = headers['grpc-timeout'];
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      if (timer) clearTimeout(timer);
      return !stream.destroyed && !stream.closed;
    };
    if (typeof timeout === 'string') {
      const ms = parseTimeout(timeout);
      if (ms !== null) {
        timer = setTimeout(() => {
          if (finish()) sendStatus(stream, grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded');
        }, ms);
      }
    }
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    stream.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (first === undefined) first = c;
      else (chunks ??= [first]).push(c);
      // As grpc-js: an oversized message is refused from its length prefix, before it is all here.
      if (size >= HEADER_PREFIX && size - c.length < HEADER_PREFIX) {
        const head = chunks ? Buffer.concat(chunks, size) : c;
        const len = head.readUInt32BE(1);
        if (len > this.maxReceiveBytes && finish()) {
          sendStatus(stream, grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${len} vs ${this.maxReceiveBytes})`);
        }
      }
    });
    stream.on('end', () => {
      if (done) return;
      if (tracing) mark('req');
      const body = chunks ? Buffer.concat(chunks, size) : first ?? EMPTY;
      const req = decode(body, m, path);
      if ('error' in req) {
        if (finish()) sendStatus(stream, req.code, req.error);
        return;
      }
      const refused = this.refuse(headers);
      if (refused) {
        if (finish()) sendStatus(stream, refused.code, refused.details);
        return;
      }
      let p: Promise<unknown>;
      try {
        const token = headers['token'];
        p = m.handle(req.value, typeof token === 'string' ? token : undefined);
      } catch (err) {
        const s = statusOf(err);
        if (finish()) sendStatus(stream, s.code, s.details);
        return;
      }
      p.then(
        (res) => {
          if (!finish()) return;
          let out: Buffer;
          try {
            out = frame(res, m);
          } catch (err) {
            sendStatus(stream, GrpcCode.Internal as number, `Error serializing response: ${(err as Error).message}`);
            return;
          }
          ANSWER.send(stream, out);
          if (tracing) mark('resp');
        },
        (err: unknown) => {
          const s = statusOf(err);
          if (finish()) sendStatus(stream, s.code, s.details);
        },
      );
    });
    stream.on('close', () => {
      done = true;
      if (timer) clearTimeout(timer);
    });
  }
}

const EMPTY = Buffer.alloc(0);

/** The one message of a unary request, or the status grpc-js answers for what is wrong. */
function decode(body: Buffer, m: FastMethod, path: string): { value: unknown } | { code: number; error: string } {
  // Exactly one whole message, as grpc-js's unary calls require; its texts
  // (which name server streaming methods) are kept word for word.
  const end = body.length < HEADER_PREFIX ? Infinity : HEADER_PREFIX + body.readUInt32BE(1);
  if (body.length < end) {
    return { code: grpc.status.UNIMPLEMENTED, error: `Received no request message for server streaming method ${path}` };
  }
  if (body.length > end) {
    return { code: grpc.status.UNIMPLEMENTED, error: `Received a second request message for server streaming method ${path}` };
  }
  // A set compression flag without a grpc-encoding header is read as plain bytes, as grpc-js reads it.
  try {
    return { value: m.deserialize(body.subarray(HEADER_PREFIX)) };
  } catch {
    // grpc-js adds the parser's text only with GRPC_NODE_DEBUG_SEND_ERROR_DETAILS set.
    return { code: grpc.status.INTERNAL, error: 'Error deserializing request' };
  }
}

/** The answer behind gRPC's 5-byte prefix; a hand-encoded one is written in place, not copied. */
function frame(res: unknown, m: FastMethod): Buffer {
  if (res instanceof EncodedAnswer) {
    const out = Buffer.allocUnsafe(HEADER_PREFIX + res.size);
    out[0] = 0;
    out.writeUInt32BE(res.size, 1);
    res.writeInto(out.subarray(HEADER_PREFIX));
    return out;
  }
  const body = m.serialize(res);
  const out = Buffer.allocUnsafe(HEADER_PREFIX + body.length);
  out[0] = 0;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, HEADER_PREFIX);
  return out;
}

/** A trailers-only answer: the status in the one HEADERS frame, as gRPC allows for errors. */
function sendStatus(stream: http2.ServerHttp2Stream, code: number, details: string): void {
  stream.respond(
    { ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) },
    SEND_STATUS,
  );
}

/**
 * grpc-message as the gRPC spec and grpc-go (etcd) write it: each UTF-8 byte
 * outside printable ASCII, and '%' itself, as %XX; everything else, spaces
 * included, as it is. (grpc-js's encodeURI also escapes spaces and quotes;
 * clients decode both the same.)
 */
export function encodeGrpcMessage(s: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** gRPC's timeout header: 1-8 digits and a unit (H, M, S, m, u, n); milliseconds. */
export function parseTimeout(v: string): number | null {
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  const per: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
  return Math.ceil(n * per[m[2]!]!);
}
