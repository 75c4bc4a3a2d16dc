// Sends a unary gRPC answer (HEADERS, DATA, trailing HEADERS) in one socket
// write, as grpc-go (etcd) does.
//
// Node's public route takes two writes and a loop turn between them:
// - stream.end(data) shuts the writable side only once the data's write has
//   called back, that is after the data left, so nghttp2 sends the DATA frame
//   without knowing it is the last one and asks for trailers on a later round;
// - stream.sendTrailers() submits them from a setImmediate.
// A single client's put paid for it twice: the client woke for the first
// write, often ran on the leader's core, and the trailers left 100-120 µs
// after the DATA (traced with perf: resp -> trailers -> second write).
//
// Here the writable side is shut at once (the stream's own _final, which
// node guards against a second call), so 'wantTrailers' comes in the same
// nghttp2 round as the DATA, and the trailers are submitted right there
// through the stream's native handle, which nghttp2 allows from inside its
// data callback. The native call needs node's encoded form of the trailers;
// it is taken from the first answer, which goes the public way. Where node's
// internals do not look as expected, every answer goes the public way.
//
// The DATA goes through the native handle too, not stream.write(). With the
// trailers in the same round, nghttp2 closes the stream, and node destroys it,
// before the socket write calls back; a write still pending in the Writable
// then completes on a destroyed stream, and node builds an ERR_STREAM_DESTROYED
// error for it (unconditionally, to hand to callbacks that are not there).
// Written natively, the Writable never holds the body and no error is built.
// Measured in alternating runs: a lone member's CPU per single-client put fell
// from 394-418 to 369-381 µs, a leader's per serializable get under 100
// clients from 43-46 to 36-41 µs.
import type * as http2 from 'node:http2';
import { mark, tracing } from '../trace';

interface NativeStream {
  trailers(list: unknown): number;
  writeBuffer?(req: WriteReq, data: Buffer): number;
}

/** node's WriteWrap: the request a native stream write reports its completion on. */
interface WriteReq {
  handle: NativeStream;
  oncomplete: () => void;
  /** Keeps the bytes alive until nghttp2 has sent them (flow control may hold them). */
  buffer: Buffer;
}

let writeReqCtor: (new () => WriteReq) | null | undefined;

/** The WriteWrap constructor from node's stream binding, or null where it is not there. */
function writeReqConstructor(): (new () => WriteReq) | null {
  if (writeReqCtor === undefined) {
    try {
      const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding('stream_wrap');
      const ctor = binding['WriteWrap'];
      writeReqCtor = typeof ctor === 'function' ? (ctor as new () => WriteReq) : null;
    } catch {
      writeReqCtor = null;
    }
  }
  return writeReqCtor;
}

type Finishable = http2.ServerHttp2Stream & { _final?: (cb: (err?: Error | null) => void) => void };

/** respond()'s options; `sendDate` is read by node but missing from @types/node's options type. */
export type ResponseOptions = http2.ServerStreamResponseOptions & { sendDate: boolean };

const RESPONSE_OPTIONS: ResponseOptions = { waitForTrailers: true, sendDate: false };

/**
 * Answers whose trailers left with their data (fast) or the public way, and
 * answers whose DATA was handed to the native stream rather than the Writable
 * (tests, stats).
 */
export const oneWriteStats = { fast: 0, public: 0, nativeBody: 0 };

export class OneWriteAnswer {
  /** The stream's native handle key; null once known to be missing. */
  private handleKey: symbol | null | undefined;
  /** Node's encoded form of `trailers`, taken from the first answer. */
  private encoded: unknown;
  private capturing = false;

  constructor(
    private readonly headers: http2.OutgoingHttpHeaders,
    private readonly trailers: http2.OutgoingHttpHeaders,
  ) {}

  send(stream: http2.ServerHttp2Stream, body: Buffer): void {
    stream.respond(this.headers, RESPONSE_OPTIONS);
    stream.once('wantTrailers', () => this.sendTrailers(stream));
    if (!this.writeNative(stream, body)) stream.write(body);
    const s = stream as Finishable;
    if (typeof s._final === 'function') s._final(noop);
    stream.end();
  }

  /** Queues `body` on the stream's native handle; false if that route is not there or refused it. */
  private writeNative(stream: http2.ServerHttp2Stream, body: Buffer): boolean {
    const native = this.nativeOf(stream);
    const Req = writeReqConstructor();
    if (native === undefined || typeof native.writeBuffer !== 'function' || Req === null) return false;
    const req = new Req();
    req.handle = native;
    req.buffer = body;
    // Nothing waits for it: a stream reset meanwhile is handled by nghttp2 and node's close.
    req.oncomplete = noop;
    if (native.writeBuffer(req, body) !== 0) return false;
    oneWriteStats.nativeBody++;
    return true;
  }

  private sendTrailers(stream: http2.ServerHttp2Stream): void {
    if (tracing) mark('trailers');
    const native = this.nativeOf(stream);
    if (native !== undefined && this.encoded !== undefined) {
      const ret = native.trailers(this.encoded);
      if (ret >= 0) {
        oneWriteStats.fast++;
        return;
      }
      // nghttp2 refused (the stream is going away): let the public route decide what to do.
    }
    if (native !== undefined && this.encoded === undefined && !this.capturing) this.capture(stream, native);
    oneWriteStats.public++;
    stream.sendTrailers(this.trailers);
  }

  /** Records what node hands its native handle for these trailers, once. */
  private capture(stream: http2.ServerHttp2Stream, native: NativeStream): void {
    this.capturing = true;
    // A stream reset before its trailers left: the next answer tries again.
    stream.once('close', () => {
      if (this.encoded === undefined) this.capturing = false;
    });
    const original = native.trailers;
    const self = this;
    native.trailers = function (this: NativeStream, list: unknown): number {
      const ret = original.call(this, list);
      if (ret >= 0) self.encoded = list;
      return ret;
    };
  }

  private nativeOf(stream: http2.ServerHttp2Stream): NativeStream | undefined {
    if (this.handleKey === undefined) {
      this.handleKey = Object.getOwnPropertySymbols(stream).find((k) => k.description === 'kHandle') ?? null;
    }
    if (this.handleKey === null) return undefined;
    const h = (stream as unknown as Record<symbol, unknown>)[this.handleKey] as Partial<NativeStream> | undefined;
    return h !== undefined && typeof h.trailers === 'function' ? (h as NativeStream) : undefined;
  }
}

function noop(): void {}
