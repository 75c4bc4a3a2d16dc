// Pending ReadIndex requests on the leader (safe mode). Each request is tagged with
// a fresh sequence number that rides on the heartbeat context, so an acknowledgement
// can only confirm reads issued before the heartbeat was sent: a late answer to an old
// heartbeat can never vouch for a newer read, even if a client reuses its context
// (the failure behind etcd #20418).

import { Message, NodeId } from './types';

export interface ReadIndexStatus {
  /** The leader's commit index when the read arrived. */
  index: number;
  req: Message;
  acks: Set<NodeId>;
  seq: number;
}

export class ReadOnly {
  private pending = new Map<number, ReadIndexStatus>();
  private queue: number[] = [];
  private nextSeq = 1;

  constructor(readonly option: 'safe' | 'leaseBased') {}

  /** Forgets pending reads (leadership changed). The sequence keeps counting, so no old context is ever reused. */
  reset(): void {
    this.pending = new Map();
    this.queue = [];
  }

  /** Queues a read at the given commit index; returns the heartbeat context to broadcast. */
  addRequest(index: number, req: Message): Uint8Array {
    const seq = this.nextSeq++;
    this.pending.set(seq, { index, req, acks: new Set(), seq });
    this.queue.push(seq);
    return encodeSeq(seq);
  }

  /** Records that `id` answered the heartbeat with this context; returns the request's status. */
  recvAck(id: NodeId, ctx: Uint8Array): ReadIndexStatus | undefined {
    const seq = decodeSeq(ctx);
    if (seq === undefined) return undefined;
    const rs = this.pending.get(seq);
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs;
  }

  /**
   * Dequeues the confirmed request and every one queued before it: leadership confirmed
   * at a later heartbeat also covers earlier reads.
   */
  advance(seq: number): ReadIndexStatus[] {
    const out: ReadIndexStatus[] = [];
    let n = 0;
    for (; n < this.queue.length; n++) {
      const s = this.queue[n]!;
      if (s > seq) break;
      const rs = this.pending.get(s);
      if (rs) out.push(rs);
      this.pending.delete(s);
    }
    if (n > 0) this.queue = this.queue.slice(n);
    return out;
  }

  /** The context of the newest pending read, to piggy-back on a periodic heartbeat. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return encodeSeq(this.queue[this.queue.length - 1]!);
  }

  get size(): number {
    return this.queue.length;
  }
}

function encodeSeq(seq: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, seq);
  return b;
}

function decodeSeq(ctx: Uint8Array): number | undefined {
  if (ctx.length !== 8) return undefined;
  return new DataView(ctx.buffer, ctx.byteOffset, 8).getFloat64(0);
}
