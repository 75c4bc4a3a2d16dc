// The long-lived outgoing connection to one peer. Messages wait in a bounded
// queue and go out many per frame, once per event-loop turn; the socket's
// backpressure pauses the flush. The connection is re-dialled with capped
// exponential backoff, rotating through the peer's URLs.

import net from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../raft/types';
import { ConnKind, decodeValue, encodeHello, encodeMessages, estimateSize } from './codec';
import { FrameDecoder, FrameType, encodeFrame, frameHeader } from './frame';
import { parsePeerUrl } from './url';

export interface StreamConfig {
  selfId: NodeId;
  clusterId: string;
  maxQueueMessages: number;
  maxQueueBytes: number;
  /** Target payload size of one Messages frame; a single larger message still goes alone. */
  maxFrameBytes: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  handshakeTimeoutMs: number;
}

export interface StreamEvents {
  onUnreachable(peer: NodeId): void;
  onRejected(peer: NodeId, reason: string): void;
}

export interface StreamStats {
  queued: number;
  queuedBytes: number;
  framesSent: number;
  messagesSent: number;
  dropped: number;
  dials: number;
}

type State = 'idle' | 'connecting' | 'handshake' | 'active' | 'closed';

export class PeerStream {
  private urls: string[];
  private urlIndex = 0;
  private state: State = 'idle';
  private sock: net.Socket | undefined;
  private queue: Message[] = [];
  private queueBytes = 0;
  private flushScheduled = false;
  private blocked = false; // socket buffer full: wait for 'drain'
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  private unreachableScheduled = false;
  private downLogged = false;
  private active: Date | undefined;
  readonly stats = { framesSent: 0, messagesSent: 0, dropped: 0, dials: 0 };

  constructor(
    readonly peerId: NodeId,
    urls: string[],
    private readonly cfg: StreamConfig,
    private readonly events: StreamEvents,
    private readonly log: Logger,
  ) {
    this.urls = [...urls];
    this.backoff = cfg.backoffMinMs;
    this.dial();
  }

  /** When the current connection finished its handshake; undefined while down. */
  activeSince(): Date | undefined {
    return this.active;
  }

  snapshotStats(): StreamStats {
    return { ...this.stats, queued: this.queue.length, queuedBytes: this.queueBytes };
  }

  currentUrl(): string {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  /** Queues a message; false if the queue is full and the message was dropped. */
  send(m: Message): boolean {
    if (this.state === 'closed') return false;
    const size = estimateSize(m);
    if (this.queue.length >= this.cfg.maxQueueMessages || this.queueBytes + size > this.cfg.maxQueueBytes) {
      // Dropping is safe for Raft (it retries); growing without bound is not.
      this.stats.dropped++;
      this.reportUnreachable();
      return false;
    }
    this.queue.push(m);
    this.queueBytes += size;
    this.scheduleFlush();
    return true;
  }

  /**
   * Writes what is queued now instead of on the next turn. The Raft loop hands
   * over a whole Ready's messages at once, so nothing is gained by waiting, and
   * the wait sat on every write's critical path (leader's append, follower's
   * acknowledgement) behind the rest of the turn's work.
   */
  flushNow(): void {
    if (this.state === 'active' && !this.blocked && this.queue.length > 0) this.flush();
  }

  setUrls(urls: string[]): void {
    if (urls.length === this.urls.length && urls.every((u, i) => u === this.urls[i])) return;
    this.urls = [...urls];
    this.urlIndex = 0;
    if (this.state === 'closed') return;
    // Re-dial at once: the old address may now belong to someone else. The old
    // socket is detached first so its close does not advance the URL rotation.
    const old = this.sock;
    if (old) {
      const wasActive = this.state === 'active';
      this.sock = undefined;
      this.active = undefined;
      this.blocked = false;
      old.destroy();
      if (wasActive) this.reportUnreachable();
    }
    this.state = 'idle';
    this.backoff = this.cfg.backoffMinMs;
    this.redialNow();
  }

  close(): void {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.sock?.destroy();
    this.sock = undefined;
    this.queue = [];
    this.queueBytes = 0;
    this.active = undefined;
  }

  private redialNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dial();
  }

  private dial(): void {
    if (this.state === 'closed') return;
    let target;
    try {
      target = parsePeerUrl(this.currentUrl());
    } catch (err) {
      this.log.error({ err, peer: this.peerId }, 'bad peer url');
      this.state = 'idle';
      this.scheduleRedial();
      return;
    }
    this.stats.dials++;
    this.state = 'connecting';
    const sock = net.connect({ host: target.host, port: target.port });
    this.sock = sock;
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 5_000);
    // A proxy in front of a dead peer accepts and then says nothing: give up on silence.
    sock.setTimeout(this.cfg.handshakeTimeoutMs);
    const decoder = new FrameDecoder((type, payload) => this.onFrame(sock, type, payload));
    sock.on('connect', () => {
      this.state = 'handshake';
      sock.write(encodeFrame(FrameType.Hello, encodeHello({ clusterId: this.cfg.clusterId, from: this.cfg.selfId, to: this.peerId, kind: ConnKind.Stream })));
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        this.log.warn({ err, peer: this.peerId }, 'bad frame from peer, closing stream');
        sock.destroy();
      }
    });
    sock.on('timeout', () => {
      if (this.sock === sock && this.state !== 'active') sock.destroy();
    });
    sock.on('drain', () => {
      if (this.sock !== sock) return;
      this.blocked = false;
      this.scheduleFlush();
    });
    sock.on('error', (err) => {
      if (!this.downLogged) this.log.debug({ err: err.message, peer: this.peerId, url: this.currentUrl() }, 'peer stream error');
    });
    sock.on('close', () => this.onClose(sock));
  }

  private onFrame(sock: net.Socket, type: FrameType, payload: Buffer): void {
    if (this.sock !== sock) return;
    if (type === FrameType.HelloOk && this.state === 'handshake') {
      this.state = 'active';
      this.active = new Date();
      this.backoff = this.cfg.backoffMinMs;
      this.downLogged = false;
      sock.setTimeout(0);
      this.log.info({ peer: this.peerId, url: this.currentUrl() }, 'peer stream active');
      this.scheduleFlush();
    } else if (type === FrameType.Reject) {
      let reason = 'unknown';
      try {
        reason = String(decodeValue(payload));
      } catch {
        // keep 'unknown'
      }
      this.log.warn({ peer: this.peerId, url: this.currentUrl(), reason }, 'peer rejected our stream');
      this.events.onRejected(this.peerId, reason);
      sock.destroy();
    } else {
      this.log.warn({ peer: this.peerId, type }, 'unexpected frame on outgoing stream');
      sock.destroy();
    }
  }

  private onClose(sock: net.Socket): void {
    if (this.sock !== sock) return;
    const wasActive = this.state === 'active';
    this.sock = undefined;
    this.active = undefined;
    this.blocked = false;
    if (this.state === 'closed') return;
    this.state = 'idle';
    if (wasActive) {
      this.log.warn({ peer: this.peerId }, 'peer stream lost');
      // Whatever sat in the socket buffer is gone: let Raft probe again.
      this.reportUnreachable();
    } else if (!this.downLogged) {
      this.log.info({ peer: this.peerId, url: this.currentUrl() }, 'peer unreachable, retrying with backoff');
      this.downLogged = true;
    }
    if (!wasActive) this.urlIndex++; // try the peer's next URL
    this.scheduleRedial();
  }

  private scheduleRedial(): void {
    if (this.state === 'closed' || this.timer) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.cfg.backoffMaxMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dial();
    }, delay);
  }

  private reportUnreachable(): void {
    // Once per event-loop turn is enough however many messages were dropped.
    if (this.unreachableScheduled) return;
    this.unreachableScheduled = true;
    setImmediate(() => {
      this.unreachableScheduled = false;
      if (this.state !== 'closed') this.events.onUnreachable(this.peerId);
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.state !== 'active' || this.blocked || this.queue.length === 0) return;
    this.flushScheduled = true;
    // Everything Raft sends during this turn leaves in one write.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const sock = this.sock;
    if (!sock || this.state !== 'active' || this.queue.length === 0) return;
    sock.cork();
    let taken = 0;
    while (taken < this.queue.length && !this.blocked) {
      let bytes = 0;
      const start = taken;
      while (taken < this.queue.length && (taken === start || bytes < this.cfg.maxFrameBytes)) {
        bytes += estimateSize(this.queue[taken]!);
        taken++;
      }
      const payload = encodeMessages(this.queue.slice(start, taken));
      this.queueBytes -= bytes;
      this.stats.framesSent++;
      this.stats.messagesSent += taken - start;
      sock.write(frameHeader(FrameType.Messages, payload.length));
      if (!sock.write(payload)) this.blocked = true;
    }
    this.queue.splice(0, taken);
    sock.uncork();
  }
}
