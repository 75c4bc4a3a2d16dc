// Member-to-member transport: listens on the peer URLs, keeps one outgoing
// stream per peer for Raft messages and opens a separate connection per
// snapshot. Every connection starts with a handshake naming the cluster and
// both members; anything from another cluster or an unknown member is refused.

import net from 'node:net';
import pino, { type Logger } from 'pino';
import { MessageType, type Message, type NodeId } from '../raft/types';
import { ConnKind, decodeHello, decodeMessages, encodeValue, type Hello } from './codec';
import { FrameDecoder, FrameType, encodeFrame } from './frame';
import { sendSnapshot, SnapshotAssembler } from './snapshot';
import { PeerStream, type StreamStats } from './stream';
import { parsePeerUrl, type HostPort } from './url';
import { mark, tracing } from '../trace';

export interface TransportOptions {
  selfId: NodeId;
  clusterId: string;
  /** --listen-peer-urls; port 0 picks a free port (see addresses()). */
  listenUrls: string[];
  logger?: Logger;
  /** Per-peer send queue bounds; beyond them messages are dropped and onUnreachable fires. */
  maxQueueMessages?: number;
  maxQueueBytes?: number;
  maxFrameBytes?: number;
  snapshotChunkBytes?: number;
  maxSnapshotBytes?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  handshakeTimeoutMs?: number;
  /** What a Members query is answered with (the cluster id and member list); without it, such queries are refused. */
  members?: () => unknown;
  snapshotIdleTimeoutMs?: number;
}

export type MessageHandler = (m: Message) => void;
export type PeerHandler = (peer: NodeId) => void;
export type SnapshotStatusHandler = (peer: NodeId, ok: boolean) => void;
export type RejectedHandler = (peer: NodeId, reason: string) => void;

/** Why a handshake was refused; sent to the dialler and logged on both sides. */
export const RejectReason = {
  ClusterMismatch: 'cluster id mismatch',
  WrongMember: 'wrong target member',
  UnknownMember: 'unknown member',
  Removed: 'member removed',
} as const;

interface Peer {
  urls: string[];
  stream: PeerStream;
  snapshotInFlight: boolean;
}

export class Transport {
  private readonly log: Logger;
  private readonly cfg: Required<Omit<TransportOptions, 'logger' | 'members'>> & Pick<TransportOptions, 'members'>;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly removed = new Set<NodeId>();
  private readonly servers: net.Server[] = [];
  private readonly inbound = new Set<net.Socket>();
  /** The member each accepted inbound connection came from. */
  private readonly inboundFrom = new Map<net.Socket, NodeId>();
  private readonly snapshotSockets = new Set<net.Socket>();
  private messageHandler: MessageHandler = () => {};
  private unreachableHandler: PeerHandler = () => {};
  private snapshotHandler: SnapshotStatusHandler = () => {};
  private rejectedHandler: RejectedHandler = () => {};
  private streamLostHandler: PeerHandler = () => {};
  private stopped = false;
  /** Messages received, for tests and metrics. */
  readonly received = { frames: 0, messages: 0, snapshots: 0, rejectedConnections: 0 };

  constructor(opts: TransportOptions) {
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'transport', memberId: opts.selfId });
    this.cfg = {
      selfId: opts.selfId,
      clusterId: opts.clusterId,
      listenUrls: opts.listenUrls,
      maxQueueMessages: opts.maxQueueMessages ?? 4096,
      maxQueueBytes: opts.maxQueueBytes ?? 64 * 1024 * 1024,
      maxFrameBytes: opts.maxFrameBytes ?? 1024 * 1024,
      snapshotChunkBytes: opts.snapshotChunkBytes ?? 64 * 1024,
      maxSnapshotBytes: opts.maxSnapshotBytes ?? 4 * 1024 * 1024 * 1024,
      backoffMinMs: opts.backoffMinMs ?? 50,
      backoffMaxMs: opts.backoffMaxMs ?? 1000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 5000,
      snapshotIdleTimeoutMs: opts.snapshotIdleTimeoutMs ?? 30_000,
      members: opts.members,
    };
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }
  /** Messages to this peer were dropped or its stream broke: raft.reportUnreachable(peer). */
  onUnreachable(handler: PeerHandler): void {
    this.unreachableHandler = handler;
  }
  /** Outcome of a MsgSnap transfer: raft.reportSnapshot(peer, ok ? Finish : Failure). */
  onSnapshotStatus(handler: SnapshotStatusHandler): void {
    this.snapshotHandler = handler;
  }
  /** A peer's message stream into this member closed (the peer stopped, crashed, or the link broke). */
  onPeerStreamLost(handler: PeerHandler): void {
    this.streamLostHandler = handler;
  }
  /** A peer refused our handshake (e.g. 'member removed': this member should stop). */
  onRejected(handler: RejectedHandler): void {
    this.rejectedHandler = handler;
  }

  /** Binds every listen URL; resolves once all are listening. */
  async start(): Promise<void> {
    for (const url of this.cfg.listenUrls) {
      const { host, port } = parsePeerUrl(url);
      const server = net.createServer((sock) => this.accept(sock));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.log.error({ err }, 'peer listener error'));
      this.servers.push(server);
      this.log.info({ url, address: server.address() }, 'listening for peers');
    }
  }

  /** The bound addresses, in listenUrls order (useful with port 0). */
  addresses(): HostPort[] {
    return this.servers.map((s) => {
      const a = s.address() as net.AddressInfo;
      return { host: a.address, port: a.port };
    });
  }

  addPeer(id: NodeId, urls: string[]): void {
    if (id === this.cfg.selfId || this.peers.has(id) || this.stopped) return;
    if (urls.length === 0) throw new Error(`transport: peer ${id} has no URLs`);
    for (const u of urls) parsePeerUrl(u); // fail fast on a bad URL
    this.removed.delete(id);
    const stream = new PeerStream(id, urls, this.cfg, {
      onUnreachable: (p) => this.unreachableHandler(p),
      onRejected: (p, reason) => this.rejectedHandler(p, reason),
    }, this.log);
    this.peers.set(id, { urls: [...urls], stream, snapshotInFlight: false });
  }

  updatePeer(id: NodeId, urls: string[]): void {
    const p = this.peers.get(id);
    if (!p) return this.addPeer(id, urls);
    for (const u of urls) parsePeerUrl(u);
    p.urls = [...urls];
    p.stream.setUrls(urls);
  }

  removePeer(id: NodeId): void {
    const p = this.peers.get(id);
    p?.stream.close();
    this.peers.delete(id);
    this.removed.add(id);
    // Its own streams to us end too: when it dials again it is refused as
    // removed, which is how a removed member learns it was (the entry that
    // removed it may never reach it).
    for (const [sock, from] of this.inboundFrom) if (from === id) sock.destroy();
  }

  /** The peers this transport streams to. */
  peerIds(): NodeId[] {
    return [...this.peers.keys()];
  }

  /** When the stream to `id` last became active; undefined while it is down. */
  activeSince(id: NodeId): Date | undefined {
    return this.peers.get(id)?.stream.activeSince();
  }

  peerStats(id: NodeId): StreamStats | undefined {
    return this.peers.get(id)?.stream.snapshotStats();
  }

  /** Queues messages for their peers; never blocks and never throws for a down peer. */
  /** Queues messages for their peers; with `now`, writes them in this turn (see PeerStream.flushNow). */
  send(messages: readonly Message[], now = false): void {
    for (const m of messages) {
      const p = this.peers.get(m.to);
      if (!p) {
        this.log.debug({ to: m.to, type: m.type }, 'dropping message to unknown peer');
        continue;
      }
      if (m.type === MessageType.Snap) this.startSnapshot(m.to, p, m);
      else p.stream.send(m);
    }
    if (now) for (const m of messages) this.peers.get(m.to)?.stream.flushNow();
  }

  private startSnapshot(id: NodeId, p: Peer, m: Message): void {
    if (p.snapshotInFlight) {
      // Raft sends one snapshot per peer at a time; a second one is stale.
      this.log.warn({ peer: id }, 'snapshot already in flight, dropping another');
      setImmediate(() => this.snapshotHandler(id, false));
      return;
    }
    p.snapshotInFlight = true;
    const size = m.snapshot?.data.length ?? 0;
    const target = parsePeerUrl(p.stream.currentUrl());
    const hello: Hello = { clusterId: this.cfg.clusterId, from: this.cfg.selfId, to: id, kind: ConnKind.Snapshot };
    this.log.info({ peer: id, index: m.snapshot?.metadata.index, size }, 'sending snapshot');
    sendSnapshot({ target, hello, message: m, chunkBytes: this.cfg.snapshotChunkBytes, idleTimeoutMs: this.cfg.snapshotIdleTimeoutMs, sockets: this.snapshotSockets }).then(
      () => {
        p.snapshotInFlight = false;
        this.log.info({ peer: id, size }, 'snapshot sent');
        if (this.peers.get(id) === p) this.snapshotHandler(id, true);
      },
      (err: Error) => {
        p.snapshotInFlight = false;
        this.log.warn({ peer: id, err: err.message }, 'snapshot send failed');
        if (this.peers.get(id) !== p) return;
        this.snapshotHandler(id, false);
        this.unreachableHandler(id);
      },
    );
  }

  private accept(sock: net.Socket): void {
    if (this.stopped) return void sock.destroy();
    this.inbound.add(sock);
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 5_000);
    sock.setTimeout(this.cfg.handshakeTimeoutMs);
    let hello: Hello | undefined;
    let assembler: SnapshotAssembler | undefined;
    const decoder = new FrameDecoder((type, payload) => {
      if (!hello) {
        if (type !== FrameType.Hello) throw new Error('first frame is not a handshake');
        hello = this.handshake(sock, decodeHello(payload));
        if (hello) {
          this.inboundFrom.set(sock, hello.from);
          sock.setTimeout(hello.kind === ConnKind.Snapshot ? this.cfg.snapshotIdleTimeoutMs : 0);
          if (hello.kind === ConnKind.Snapshot) assembler = new SnapshotAssembler(this.cfg.maxSnapshotBytes);
        }
        return;
      }
      if (assembler) {
        const m = assembler.onFrame(type, payload);
        if (m) {
          this.received.snapshots++;
          this.deliver(m);
          sock.end(SnapshotAssembler.ack(true));
        }
      } else if (type === FrameType.Messages) {
        const ms = decodeMessages(payload);
        this.received.frames++;
        this.received.messages += ms.length;
        for (const m of ms) this.deliver(m);
      } else {
        throw new Error(`unexpected frame ${type} on a message stream`);
      }
    });
    let broken = false;
    sock.on('data', (chunk: Buffer) => {
      if (broken) return;
      try {
        decoder.push(chunk);
      } catch (err) {
        broken = true;
        this.log.warn({ err: (err as Error).message, peer: hello?.from, remote: sock.remoteAddress }, 'closing bad peer connection');
        if (assembler) sock.end(SnapshotAssembler.ack(false, (err as Error).message));
        else sock.destroy();
      }
    });
    sock.on('timeout', () => sock.destroy());
    sock.on('error', () => {}); // 'close' follows; the dialler logs and retries
    sock.on('close', () => {
      this.inbound.delete(sock);
      this.inboundFrom.delete(sock);
      if (!this.stopped && hello?.kind === ConnKind.Stream) this.streamLostHandler(hello.from);
    });
  }

  /** Checks a handshake; answers HelloOk or Reject. Returns the hello if accepted. */
  private handshake(sock: net.Socket, h: Hello): Hello | undefined {
    // A joining member does not know the cluster's id yet: a Members query is
    // answered whoever asks, as etcd serves /members, and the connection ends.
    if (h.kind === ConnKind.Members && this.cfg.members) {
      sock.end(encodeFrame(FrameType.HelloOk, encodeValue(this.cfg.members())));
      return undefined;
    }
    let reason: string | undefined;
    if (h.clusterId !== this.cfg.clusterId) reason = RejectReason.ClusterMismatch;
    else if (h.to !== this.cfg.selfId) reason = RejectReason.WrongMember;
    else if (this.removed.has(h.from)) reason = RejectReason.Removed;
    else if (!this.peers.has(h.from)) reason = RejectReason.UnknownMember;
    if (reason) {
      this.received.rejectedConnections++;
      this.log.warn({ from: h.from, to: h.to, clusterId: h.clusterId, localClusterId: this.cfg.clusterId, reason, remote: sock.remoteAddress }, 'rejected peer connection');
      sock.end(encodeFrame(FrameType.Reject, encodeValue(reason)));
      return undefined;
    }
    sock.write(encodeFrame(FrameType.HelloOk, encodeValue(null)));
    return h;
  }

  private deliver(m: Message): void {
    if (tracing) mark(`recv ${MessageType[m.type]} ${m.entries.length}`);
    try {
      this.messageHandler(m);
    } catch (err) {
      // A throwing handler is the server's bug; do not let it kill the stream.
      this.log.error({ err, type: m.type, from: m.from }, 'message handler threw');
    }
  }

  /** Closes listeners, streams and inbound connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.peers.values()) p.stream.close();
    this.peers.clear();
    for (const s of [...this.inbound, ...this.snapshotSockets]) s.destroy();
    this.inbound.clear();
    this.inboundFrom.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
  }
}
