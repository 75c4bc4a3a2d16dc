// A TCP proxy for peer links, so a chaos test can partition, black-hole or slow down
// the traffic between two members without touching the server. Each direction of a
// proxied connection has its own mode; a ProxyMesh puts one proxy on every ordered
// pair of members (the address member A dials to reach member B).

import * as net from 'node:net';

/**
 * pass: forward bytes. delay: forward each chunk `ms` later, order preserved.
 * blackhole: accept and read, forward nothing (a silent partition; the sender's
 * writes still succeed, as with packets lost in a switch).
 * cut: destroy the proxy's connections and refuse new ones. TCP has no way to cut one
 * direction of a byte stream without breaking its framing, so 'cut' on either
 * direction severs the whole connection; use 'blackhole' for a one-way partition.
 */
export type LinkMode = { mode: 'pass' } | { mode: 'delay'; ms: number } | { mode: 'blackhole' } | { mode: 'cut' };

export const PASS: LinkMode = { mode: 'pass' };
export const CUT: LinkMode = { mode: 'cut' };
export const BLACKHOLE: LinkMode = { mode: 'blackhole' };
export const delay = (ms: number): LinkMode => ({ mode: 'delay', ms });

/** forward: client -> target (what the dialing member sends). backward: target -> client. */
export type Direction = 'forward' | 'backward' | 'both';

export interface Endpoint {
  host: string;
  port: number;
}

export interface ProxyStats {
  accepted: number;
  refused: number;
  forwardedBytes: number;
  droppedBytes: number;
}

/** One direction of one proxied connection: bytes from src to dst through a FIFO. */
class Pipe {
  private queue: Array<{ chunk: Buffer; due: number }> = [];
  private timer: NodeJS.Timeout | null = null;
  private lastDue = 0;
  private ended = false;
  private waitingDrain = false;
  /** Set once bytes were discarded: the receiver's framing is broken from here on. */
  tainted = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly mode: () => LinkMode,
    private readonly stats: ProxyStats,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => {
      this.ended = true;
      this.flush();
    });
  }

  private onData(chunk: Buffer): void {
    const m = this.mode();
    if (m.mode === 'blackhole' || m.mode === 'cut') {
      this.stats.droppedBytes += chunk.length;
      this.tainted = true;
      return;
    }
    const now = Date.now();
    const wait = m.mode === 'delay' ? m.ms : 0;
    if (wait === 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    // Never earlier than the chunk before it: latency must not reorder a byte stream.
    this.lastDue = Math.max(now + wait, this.lastDue);
    this.queue.push({ chunk, due: this.lastDue });
    this.flush();
  }

  private write(chunk: Buffer): void {
    if (this.dst.destroyed) return;
    this.stats.forwardedBytes += chunk.length;
    // Backpressure: stop reading until the receiver catches up (one drain listener at a time).
    if (!this.dst.write(chunk) && !this.waitingDrain) {
      this.waitingDrain = true;
      this.src.pause();
      this.dst.once('drain', () => {
        this.waitingDrain = false;
        this.src.resume();
      });
    }
  }

  /** Called when the mode changes: a black hole also swallows what was queued. */
  modeChanged(): void {
    const m = this.mode();
    if (m.mode === 'blackhole' && this.queue.length > 0) {
      for (const q of this.queue) this.stats.droppedBytes += q.chunk.length;
      this.queue = [];
      this.tainted = true;
    }
    this.flush();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.due <= now) this.write(this.queue.shift()!.chunk);
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), this.queue[0]!.due - now);
    } else if (this.ended && !this.dst.destroyed) {
      this.dst.end();
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}

interface Conn {
  client: net.Socket;
  upstream: net.Socket;
  pipes: Pipe[];
}

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly conns = new Set<Conn>();
  private modes: { forward: LinkMode; backward: LinkMode } = { forward: PASS, backward: PASS };
  readonly stats: ProxyStats = { accepted: 0, refused: 0, forwardedBytes: 0, droppedBytes: 0 };
  private boundPort = 0;

  constructor(
    readonly target: Endpoint,
    private readonly listen: { host?: string; port?: number } = {},
  ) {}

  /** Starts listening; returns the port (picked by the OS unless one was given). */
  async start(): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listen.port ?? 0, this.listen.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as net.AddressInfo).port;
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.listen.host ?? '127.0.0.1';
  }

  get connections(): number {
    return this.conns.size;
  }

  mode(direction: 'forward' | 'backward'): LinkMode {
    return this.modes[direction];
  }

  set(direction: Direction, mode: LinkMode): void {
    const wasBlackholed = this.modes.forward.mode === 'blackhole' || this.modes.backward.mode === 'blackhole';
    if (direction !== 'backward') this.modes.forward = mode;
    if (direction !== 'forward') this.modes.backward = mode;
    if (this.isCut()) {
      for (const c of [...this.conns]) this.drop(c);
      return;
    }
    for (const c of this.conns) for (const p of c.pipes) p.modeChanged();
    // Coming out of a black hole: a stream that lost bytes mid-frame would make the
    // receiver misparse everything after; reset it so the member reconnects cleanly.
    const stillBlackholed = this.modes.forward.mode === 'blackhole' || this.modes.backward.mode === 'blackhole';
    if (wasBlackholed && !stillBlackholed) {
      for (const c of [...this.conns]) if (c.pipes.some((p) => p.tainted)) this.drop(c);
    }
  }

  heal(): void {
    this.set('both', PASS);
  }

  private isCut(): boolean {
    return this.modes.forward.mode === 'cut' || this.modes.backward.mode === 'cut';
  }

  private accept(client: net.Socket): void {
    if (this.isCut()) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.accepted++;
    client.setNoDelay(true);
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    upstream.setNoDelay(true);
    const conn: Conn = { client, upstream, pipes: [] };
    conn.pipes.push(
      new Pipe(client, upstream, () => this.modes.forward, this.stats),
      new Pipe(upstream, client, () => this.modes.backward, this.stats),
    );
    this.conns.add(conn);
    const done = () => this.drop(conn);
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  }

  private drop(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    for (const p of conn.pipes) p.close();
    conn.client.destroy();
    conn.upstream.destroy();
  }

  async stop(): Promise<void> {
    for (const c of [...this.conns]) this.drop(c);
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface MeshMember {
  name: string;
  /** Where the member really listens for peers. */
  peer: Endpoint;
}

/**
 * A proxy for every ordered pair of members: proxy(A, B) is the address A dials to
 * reach B. Data from A to B travels forward through proxy(A, B) (A's own messages)
 * and backward through proxy(B, A) (A's replies on connections B opened), so the
 * flow operations below set both halves.
 */
export class ProxyMesh {
  private constructor(
    readonly members: readonly MeshMember[],
    private readonly proxies: Map<string, TcpProxy>,
  ) {}

  /** `port(from, to)` may fix the listen ports (e.g. from 42000-42999); default: OS-picked. */
  static async create(members: readonly MeshMember[], opts: { port?: (from: string, to: string) => number } = {}): Promise<ProxyMesh> {
    const names = new Set(members.map((m) => m.name));
    if (names.size !== members.length) throw new Error('member names must be unique');
    const proxies = new Map<string, TcpProxy>();
    const mesh = new ProxyMesh(members, proxies);
    try {
      for (const from of members) {
        for (const to of members) {
          if (from === to) continue;
          const listen = opts.port ? { port: opts.port(from.name, to.name) } : {};
          const p = new TcpProxy(to.peer, listen);
          proxies.set(pairKey(from.name, to.name), p);
          await p.start();
        }
      }
    } catch (err) {
      await mesh.stop();
      throw err;
    }
    return mesh;
  }

  proxy(from: string, to: string): TcpProxy {
    const p = this.proxies.get(pairKey(from, to));
    if (p === undefined) throw new Error(`no proxy for link ${from}->${to}`);
    return p;
  }

  /** The URL member `from` must dial to reach member `to`. */
  url(from: string, to: string): string {
    const p = this.proxy(from, to);
    return `http://${p.host}:${p.port}`;
  }

  /**
   * The --peer-url-overrides (env ETCD_PEER_URL_OVERRIDES) value for member `from`:
   * "<advertised peer URL of B>=<proxy URL from->B>,..." (see README.md).
   */
  peerUrlOverrides(from: string): string {
    return this.members
      .filter((m) => m.name !== from)
      .map((m) => `http://${m.peer.host}:${m.peer.port}=${this.url(from, m.name)}`)
      .join(',');
  }

  /** Sets the flow of data from `from` to `to` (one way, except 'cut', which severs connections). */
  setFlow(from: string, to: string, mode: LinkMode): void {
    this.proxy(from, to).set('forward', mode);
    this.proxy(to, from).set('backward', mode);
  }

  /** Both directions between a and b. */
  setLink(a: string, b: string, mode: LinkMode): void {
    this.proxy(a, b).set('both', mode);
    this.proxy(b, a).set('both', mode);
  }

  cut(a: string, b: string): void {
    this.setLink(a, b, CUT);
  }

  /** One-way partition: `to` stops hearing from `from`, while `from` still hears `to`. */
  blackhole(from: string, to: string): void {
    this.setFlow(from, to, BLACKHOLE);
  }

  delay(from: string, to: string, ms: number): void {
    this.setFlow(from, to, delay(ms));
  }

  /** Cuts (or black-holes) every link of `member`. */
  isolate(member: string, mode: LinkMode = CUT): void {
    for (const m of this.members) if (m.name !== member) this.setLink(member, m.name, mode);
  }

  /** Links inside a group pass; links between groups get `mode`. Members in no group are isolated. */
  partition(groups: ReadonlyArray<readonly string[]>, mode: LinkMode = CUT): void {
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((name) => groupOf.set(name, i)));
    for (const a of this.members) {
      for (const b of this.members) {
        if (a.name >= b.name) continue;
        const ga = groupOf.get(a.name);
        const same = ga !== undefined && ga === groupOf.get(b.name);
        this.setLink(a.name, b.name, same ? PASS : mode);
      }
    }
  }

  /** Splits into a majority and the minority containing `minority` members. */
  splitMajority(minority: readonly string[], mode: LinkMode = CUT): void {
    if (minority.length * 2 >= this.members.length) throw new Error('minority side must be smaller than half');
    const majority = this.members.map((m) => m.name).filter((n) => !minority.includes(n));
    this.partition([minority, majority], mode);
  }

  heal(): void {
    for (const p of this.proxies.values()) p.heal();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
  }
}

function pairKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}
