// A unary answer's HEADERS, DATA and trailers in one socket write
// (src/api/one-write-answer.ts): every answer complete and in order, answers
// after the first taking the one-write route (their DATA handed to the native
// stream, not the Writable), the trailers still last behind
// a message larger than HTTP/2's flow-control window, streams cleaned up, and
// a stream reset before its answer harmless.
import * as http2 from 'node:http2';
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OneWriteAnswer, oneWriteStats } from '../../src/api/one-write-answer';

const ANSWER = new OneWriteAnswer({ ':status': 200, 'content-type': 'application/grpc' }, { 'grpc-status': '0', 'grpc-message': '' });

function framed(payload: Buffer): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, 5);
  return out;
}

interface Answer {
  status: unknown;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
}

/** The frames in one write, as `TYPE` or `TYPE+END` (END_STREAM set), HTTP/2's 9-byte frame headers read in turn. */
function frames(write: Buffer): string[] {
  const names: Record<number, string> = { 0: 'DATA', 1: 'HEADERS', 3: 'RST_STREAM', 4: 'SETTINGS', 6: 'PING', 8: 'WINDOW_UPDATE' };
  const out: string[] = [];
  for (let at = 0; at + 9 <= write.length; ) {
    const len = write.readUIntBE(at, 3);
    const type = write[at + 3]!;
    const flags = write[at + 4]!;
    const endStream = (type === 0 || type === 1) && (flags & 1) !== 0;
    out.push(`${names[type] ?? type}${endStream ? '+END' : ''}`);
    at += 9 + len;
  }
  return out;
}

let server: http2.Http2Server;
/** Each write the server's HTTP/2 session made to its transport (one per flush of its frames). */
const serverWrites: Buffer[] = [];
let open = 0;

/**
 * An in-process connection: node wraps a transport that is not a socket in a
 * JS stream and hands it each flush of frames as one write (or writev), which
 * the server's end counts.
 */
function connectionPair(): { serverEnd: Duplex; clientEnd: Duplex } {
  let clientEnd!: Duplex;
  const serverEnd = new Duplex({
    read() {},
    writev(chunks, cb) {
      const all = Buffer.concat(chunks.map((c) => c.chunk as Buffer));
      serverWrites.push(all);
      clientEnd.push(all);
      cb();
    },
    write(chunk: Buffer, _enc, cb) {
      serverWrites.push(chunk);
      clientEnd.push(chunk);
      cb();
    },
  });
  clientEnd = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      serverEnd.push(chunk);
      cb();
    },
  });
  return { serverEnd, clientEnd };
}

function connect(): http2.ClientHttp2Session {
  const { serverEnd, clientEnd } = connectionPair();
  server.emit('connection', serverEnd);
  return http2.connect('http://in-process', { createConnection: () => clientEnd });
}

beforeAll(() => {
  server = http2.createServer();
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    open++;
    stream.on('close', () => open--);
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      const size = Number(headers['x-size'] ?? '3');
      // Answered on a later turn, as the server answers after a Raft round.
      setImmediate(() => {
        if (stream.destroyed || stream.closed) return;
        ANSWER.send(stream, framed(Buffer.alloc(size, 7)));
      });
    });
  });
});

afterAll(() => {
  server.close();
});

function ask(session: http2.ClientHttp2Session, size = 3): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/t', 'content-type': 'application/grpc', 'x-size': String(size) });
    const chunks: Buffer[] = [];
    let status: unknown;
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => (status = h[':status']));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => (trailers = t));
    req.on('end', () => resolve({ status, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    req.end(framed(Buffer.alloc(0)));
  });
}

describe('one-write answer', () => {
  it('sends every answer whole and in order, after the first in one write', async () => {
    const session = connect();
    try {
      await ask(session); // the first answer goes node's public way and teaches the encoded trailers
      const fastBefore = oneWriteStats.fast;
      const nativeBefore = oneWriteStats.nativeBody;
      const writesBefore = serverWrites.length;
      const n = 40;
      for (let i = 0; i < n; i++) {
        const a = await ask(session);
        expect(a.status).toBe(200);
        expect(a.body.equals(framed(Buffer.alloc(3, 7)))).toBe(true);
        expect(a.trailers?.['grpc-status']).toBe('0');
        expect(a.trailers?.['grpc-message']).toBe('');
      }
      expect(oneWriteStats.fast - fastBefore).toBe(n);
      // The DATA went to the native stream, never through the Writable (see send()).
      expect(oneWriteStats.nativeBody - nativeBefore).toBe(n);
      // node's public route writes each answer in two flushes: HEADERS and DATA, then the trailers.
      const writes = serverWrites.slice(writesBefore);
      expect(writes.length).toBe(n);
      for (const w of writes) expect(frames(w)).toEqual(['HEADERS', 'DATA', 'HEADERS+END']);
    } finally {
      session.close();
    }
  });

  it('keeps the trailers behind a message larger than the flow-control window', async () => {
    const session = connect();
    try {
      const size = 300_000;
      const a = await ask(session, size);
      expect(a.body.length).toBe(size + 5);
      expect(a.body.readUInt32BE(1)).toBe(size);
      expect(a.body.subarray(5).every((b) => b === 7)).toBe(true);
      expect(a.trailers?.['grpc-status']).toBe('0');
      // The trailers close the stream after the last DATA frame, whatever the flushes.
      const sent = serverWrites.flatMap(frames).filter((f) => f.startsWith('DATA') || f.startsWith('HEADERS'));
      expect(sent[sent.length - 1]).toBe('HEADERS+END');
      expect(sent[sent.length - 2]).toBe('DATA');
    } finally {
      session.close();
    }
  });

  it('survives a client reset in the middle of a large answer', async () => {
    const session = connect();
    try {
      // The answer outgrows the flow-control window, so part of it is still queued
      // in the native stream (behind its WriteWrap) when the client resets.
      await new Promise<void>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/t', 'content-type': 'application/grpc', 'x-size': '300000' });
        req.on('error', () => undefined);
        req.once('data', () => {
          req.close(http2.constants.NGHTTP2_CANCEL);
          resolve();
        });
        req.on('end', () => reject(new Error('the whole answer arrived before the reset')));
        req.end(framed(Buffer.alloc(0)));
      });
      // The session still answers, whole and with its trailers.
      const answers = await Promise.all(Array.from({ length: 10 }, () => ask(session)));
      for (const x of answers) expect(x.trailers?.['grpc-status']).toBe('0');
    } finally {
      session.close();
    }
  });

  it('survives a stream reset before its answer, and leaves no stream open', async () => {
    const session = connect();
    try {
      const req = session.request({ ':method': 'POST', ':path': '/t', 'content-type': 'application/grpc' });
      req.on('error', () => undefined);
      req.end(framed(Buffer.alloc(0)));
      req.close(http2.constants.NGHTTP2_CANCEL);
      const a = await ask(session);
      expect(a.trailers?.['grpc-status']).toBe('0');
      const answers = await Promise.all(Array.from({ length: 20 }, () => ask(session)));
      for (const x of answers) expect(x.trailers?.['grpc-status']).toBe('0');
    } finally {
      session.close();
    }
    const deadline = Date.now() + 5000;
    while (open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(open).toBe(0);
  });
});
