// Snapshot transfer on its own connection, so a large MsgSnap never sits in
// front of appends and heartbeats on the peer stream. The data goes in fixed
// size chunks with backpressure and a SHA-256 over them; the receiver rebuilds
// the MsgSnap and acknowledges it, which is what reportSnapshot is told.

import { createHash, type Hash } from 'node:crypto';
import net from 'node:net';
import { constants as bufferConstants } from 'node:buffer';
import type { Message } from '../raft/types';
import { decodeSnapHead, decodeValue, encodeHello, encodeSnapHead, encodeValue, type Hello } from './codec';
import { FrameDecoder, FrameType, encodeFrame, frameHeader } from './frame';
import type { HostPort } from './url';

export interface SnapshotSendOptions {
  target: HostPort;
  hello: Hello;
  message: Message;
  chunkBytes: number;
  /** No progress for this long fails the transfer (a stalled peer or proxy). */
  idleTimeoutMs: number;
  /** Live snapshot sockets, so that Transport.stop() can cut them. */
  sockets: Set<net.Socket>;
}

/** Resolves when the peer acknowledged the whole snapshot; rejects otherwise. */
export async function sendSnapshot(opts: SnapshotSendOptions): Promise<void> {
  const data = opts.message.snapshot?.data ?? new Uint8Array(0);
  const sock = net.connect({ host: opts.target.host, port: opts.target.port });
  sock.setNoDelay(true);
  sock.setTimeout(opts.idleTimeoutMs);
  const reader = new FrameReader(sock);
  opts.sockets.add(sock);
  try {
    await once(sock, 'connect');
    sock.write(encodeFrame(FrameType.Hello, encodeHello(opts.hello)));
    await expectFrame(reader, FrameType.HelloOk);
    sock.write(encodeFrame(FrameType.SnapHead, encodeSnapHead(opts.message, data.length)));
    const hash = createHash('sha256');
    for (let off = 0; off < data.length; off += opts.chunkBytes) {
      const chunk = data.subarray(off, Math.min(off + opts.chunkBytes, data.length));
      // Hash as we go: one chunk of CPU per step, never the whole image at once.
      hash.update(chunk);
      sock.write(frameHeader(FrameType.SnapChunk, chunk.length));
      if (!sock.write(chunk)) await reader.drained();
    }
    sock.write(encodeFrame(FrameType.SnapEnd, hash.digest()));
    const ack = decodeValue(await expectFrame(reader, FrameType.SnapAck)) as { ok?: unknown; error?: unknown } | null;
    if (!ack || ack.ok !== true) throw new Error(`peer refused snapshot: ${String(ack?.error ?? 'no reason')}`);
  } finally {
    opts.sockets.delete(sock);
    sock.destroy();
  }
}

async function expectFrame(reader: FrameReader, type: FrameType): Promise<Buffer> {
  const f = await reader.next();
  if (f.type === FrameType.Reject) throw new Error(`peer rejected connection: ${String(decodeValue(f.payload))}`);
  if (f.type !== type) throw new Error(`unexpected frame ${f.type}, wanted ${type}`);
  return f.payload;
}

function once(sock: net.Socket, event: 'connect'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (err: Error): void => reject(err);
    sock.once('error', onErr);
    sock.once('close', () => reject(new Error('connection closed')));
    sock.once(event, () => {
      sock.off('error', onErr);
      resolve();
    });
  });
}

/** Promise-style access to the frames and the fate of one socket. */
class FrameReader {
  private frames: Array<{ type: FrameType; payload: Buffer }> = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  constructor(private readonly sock: net.Socket) {
    const decoder = new FrameDecoder((type, payload) => {
      this.frames.push({ type, payload });
      this.wake();
    });
    sock.on('data', (c: Buffer) => {
      try {
        decoder.push(c);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    sock.on('drain', () => this.wake());
    sock.on('timeout', () => this.fail(new Error('snapshot transfer stalled')));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }

  async next(): Promise<{ type: FrameType; payload: Buffer }> {
    while (this.frames.length === 0) await this.wait();
    return this.frames.shift()!;
  }

  async drained(): Promise<void> {
    while (this.sock.writableNeedDrain) await this.wait();
  }

  private wait(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.resolve();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.sock.destroy();
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(this.failure);
  }
}

/**
 * Receiving side of one snapshot connection: collects chunks into a buffer of
 * the announced size and hands back the rebuilt MsgSnap once the hash checks.
 */
export class SnapshotAssembler {
  private message: Message | undefined;
  private data: Buffer | undefined;
  private filled = 0;
  private hash: Hash | undefined;

  constructor(private readonly maxBytes: number) {}

  /** Returns the complete message on SnapEnd, undefined before; throws on a bad transfer. */
  onFrame(type: FrameType, payload: Buffer): Message | undefined {
    switch (type) {
      case FrameType.SnapHead: {
        if (this.message) throw new Error('second snapshot head on one connection');
        const { message, size } = decodeSnapHead(payload);
        if (size > Math.min(this.maxBytes, bufferConstants.MAX_LENGTH)) throw new Error(`snapshot of ${size} bytes exceeds the limit`);
        this.message = message;
        this.data = Buffer.allocUnsafe(size);
        this.hash = createHash('sha256');
        return undefined;
      }
      case FrameType.SnapChunk: {
        if (!this.data || !this.hash) throw new Error('snapshot chunk before head');
        if (this.filled + payload.length > this.data.length) throw new Error('snapshot longer than announced');
        payload.copy(this.data, this.filled);
        this.filled += payload.length;
        this.hash.update(payload);
        return undefined;
      }
      case FrameType.SnapEnd: {
        if (!this.message || !this.data || !this.hash) throw new Error('snapshot end before head');
        if (this.filled !== this.data.length) throw new Error(`snapshot truncated: ${this.filled} of ${this.data.length} bytes`);
        if (!this.hash.digest().equals(payload)) throw new Error('snapshot checksum mismatch');
        this.message.snapshot!.data = this.data;
        return this.message;
      }
      default:
        throw new Error(`unexpected frame ${type} on a snapshot connection`);
    }
  }

  static ack(ok: boolean, error?: string): Buffer {
    return encodeFrame(FrameType.SnapAck, encodeValue(ok ? { ok } : { ok, error }));
  }
}
