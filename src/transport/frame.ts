// Length-prefixed frames on a peer TCP connection: [u32 BE length][u8 type][payload],
// where length counts the type byte plus the payload. The peer port is internal
// to the cluster, so this replaces etcd's peer HTTP with something cheaper.

export enum FrameType {
  /** Sender -> receiver, first frame: who I am, which cluster, which connection kind. */
  Hello = 1,
  /** Receiver -> sender: handshake accepted, the connection is active. */
  HelloOk = 2,
  /** Receiver -> sender: handshake refused (payload: reason); the receiver then closes. */
  Reject = 3,
  /** A batch of Raft messages. */
  Messages = 4,
  /** Snapshot transfer: the MsgSnap without its data, plus the data's size. */
  SnapHead = 5,
  /** Snapshot transfer: raw bytes of the data, in order. */
  SnapChunk = 6,
  /** Snapshot transfer: all chunks sent; payload is the data's SHA-256. */
  SnapEnd = 7,
  /** Receiver -> sender: snapshot delivered (or not). */
  SnapAck = 8,
}

export const FRAME_HEADER_BYTES = 5;

/** Upper bound on one frame; anything larger means a garbled or hostile stream. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export function frameHeader(type: FrameType, payloadLength: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32BE(payloadLength + 1, 0);
  h[4] = type;
  return h;
}

export function encodeFrame(type: FrameType, payload: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(type, payload.length), payload]);
}

export class FrameError extends Error {}

/**
 * Reassembles frames from socket chunks. Chunks are kept in a list and only
 * joined once a whole frame is present, so a large frame arriving in many
 * small reads costs one copy rather than one per read.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly onFrame: (type: FrameType, payload: Buffer) => void,
    private readonly maxFrameBytes = MAX_FRAME_BYTES,
  ) {}

  /** Feeds bytes; throws FrameError on a malformed stream (the caller closes it). */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const head = this.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length < 1 || length > this.maxFrameBytes) throw new FrameError(`frame length ${length} out of range`);
      if (this.buffered < 4 + length) return;
      const frame = this.take(4 + length);
      this.onFrame(frame[4] as FrameType, frame.subarray(FRAME_HEADER_BYTES));
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    let out: Buffer;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      let used = 0; // whole chunks consumed; removed with one splice, not shift() each
      while (filled < n) {
        const c = this.chunks[used]!;
        const need = n - filled;
        if (c.length <= need) {
          c.copy(out, filled);
          filled += c.length;
          used++;
        } else {
          c.copy(out, filled, 0, need);
          this.chunks[used] = c.subarray(need);
          filled = n;
        }
      }
      this.chunks.splice(0, used);
    }
    this.buffered -= n;
    return out;
  }
}
