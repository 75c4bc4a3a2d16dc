import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BLACKHOLE, CUT, PASS, ProxyMesh, TcpProxy, delay } from './proxy';

/** A line server that answers "<name>:<line>" and counts what it received. */
interface TagServer {
  port: number;
  received: () => number;
  stop: () => Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tagServer(name: string): Promise<TagServer> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    let buf = '';
    s.on('data', (d: Buffer) => {
      received += d.length;
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        s.write(`${name}:${buf.slice(0, nl)}\n`);
        buf = buf.slice(nl + 1);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  cleanups.push(stop);
  return { port: (server.address() as net.AddressInfo).port, received: () => received, stop };
}

/** A line client with a bounded wait for each answer. */
class LineClient {
  private buf = '';
  private readonly lines: string[] = [];
  closed = false;
  readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
    cleanups.push(() => void this.socket.destroy());
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  async next(): Promise<string> {
    await waitFor(() => this.lines.length > 0, 'an answer');
    return this.lines.shift()!;
  }

  get buffered(): number {
    return this.lines.length;
  }
}

async function waitFor(cond: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function proxyTo(port: number): Promise<TcpProxy> {
  const p = new TcpProxy({ host: '127.0.0.1', port });
  await p.start();
  cleanups.push(() => p.stop());
  return p;
}

describe('TcpProxy', () => {
  it('passes bytes both ways', async () => {
    const s = await tagServer('b');
    const p = await proxyTo(s.port);
    const c = new LineClient(p.port);
    c.send('hello');
    expect(await c.next()).toBe('b:hello');
    expect(p.stats.accepted).toBe(1);
  });

  it('carries a large stream intact, with and without delay', async () => {
    const server = net.createServer((sock) => {
      sock.on('error', () => sock.destroy());
      sock.pipe(sock);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const p = await proxyTo((server.address() as net.AddressInfo).port);
    for (const mode of [PASS, delay(5)]) {
      p.set('both', mode);
      const data = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      const sock = net.connect({ host: '127.0.0.1', port: p.port });
      cleanups.push(() => void sock.destroy());
      const chunks: Buffer[] = [];
      let got = 0;
      sock.on('data', (d: Buffer) => {
        chunks.push(d);
        got += d.length;
      });
      sock.write(data);
      await waitFor(() => got >= data.length, 'the echo of 4 MiB', 20_000);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      sock.destroy();
    }
  });

  it('delays chunks but keeps their order', async () => {
    const s = await tagServer('b');
    const p = await proxyTo(s.port);
    const c = new LineClient(p.port);
    c.send('warm');
    expect(await c.next()).toBe('b:warm');
    p.set('forward', delay(100));
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) c.send(`m${i}`);
    const got: string[] = [];
    for (let i = 0; i < 20; i++) got.push(await c.next());
    // Only a lower bound: a slow machine can add time, never remove it.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `b:m${i}`));
    // Going back to pass must not overtake chunks still queued.
    p.set('forward', delay(50));
    c.send('x1');
    p.set('forward', PASS);
    c.send('x2');
    expect([await c.next(), await c.next()]).toEqual(['b:x1', 'b:x2']);
  });

  it('black-holes one direction while the connection stays open', async () => {
    const s = await tagServer('b');
    const p = await proxyTo(s.port);
    const c = new LineClient(p.port);
    c.send('one');
    expect(await c.next()).toBe('b:one');
    const before = s.received();
    p.set('forward', BLACKHOLE);
    c.send('lost');
    await waitFor(() => p.stats.droppedBytes === 'lost\n'.length, 'the proxy to swallow the bytes');
    expect(s.received()).toBe(before);
    expect(c.closed).toBe(false);
  });

  it('black-holes the answers only (server hears, client does not)', async () => {
    const s = await tagServer('b');
    const p = await proxyTo(s.port);
    const c = new LineClient(p.port);
    c.send('one');
    expect(await c.next()).toBe('b:one');
    p.set('backward', BLACKHOLE);
    c.send('two');
    await waitFor(() => p.stats.droppedBytes === 'b:two\n'.length, 'the answer to be swallowed');
    expect(c.buffered).toBe(0);
    // Healing resets the tainted connection, so a framed protocol never sees half a frame.
    p.heal();
    await waitFor(() => c.closed, 'the tainted connection to be reset');
    const c2 = new LineClient(p.port);
    c2.send('three');
    expect(await c2.next()).toBe('b:three');
  });

  it('cut drops connections and refuses new ones until healed', async () => {
    const s = await tagServer('b');
    const p = await proxyTo(s.port);
    const c = new LineClient(p.port);
    c.send('one');
    expect(await c.next()).toBe('b:one');
    p.set('forward', CUT);
    await waitFor(() => c.closed, 'the connection to drop');
    const refused = new LineClient(p.port);
    await waitFor(() => refused.closed, 'the new connection to be refused');
    expect(p.stats.refused).toBe(1);
    p.heal();
    const c2 = new LineClient(p.port);
    c2.send('two');
    expect(await c2.next()).toBe('b:two');
  });
});

describe('ProxyMesh', () => {
  async function mesh3(): Promise<{ mesh: ProxyMesh; ask: (from: string, to: string) => Promise<string> }> {
    const names = ['a', 'b', 'c'];
    const servers = await Promise.all(names.map((n) => tagServer(n)));
    const mesh = await ProxyMesh.create(names.map((name, i) => ({ name, peer: { host: '127.0.0.1', port: servers[i]!.port } })));
    cleanups.push(() => mesh.stop());
    /**
     * Dials `to` the way `from` would and asks once. A cut link closes the connection;
     * a black-holed one is recognised by the bytes the proxies swallowed, not by a timeout.
     */
    const ask = async (from: string, to: string) => {
      const dropped = () => mesh.proxy(from, to).stats.droppedBytes + mesh.proxy(to, from).stats.droppedBytes;
      const before = dropped();
      const c = new LineClient(mesh.proxy(from, to).port);
      c.send(`from-${from}`);
      await waitFor(() => c.buffered > 0 || c.closed || dropped() > before, 'an answer, a close or a swallow');
      const answer = c.buffered > 0 ? await c.next() : 'no answer';
      c.socket.destroy();
      return answer;
    };
    return { mesh, ask };
  }

  it('routes every ordered pair to the right member and names the overrides', async () => {
    const { mesh, ask } = await mesh3();
    expect(await ask('a', 'b')).toBe('b:from-a');
    expect(await ask('b', 'a')).toBe('a:from-b');
    expect(await ask('c', 'b')).toBe('b:from-c');
    const overrides = mesh.peerUrlOverrides('a').split(',');
    expect(overrides).toHaveLength(2);
    expect(overrides[0]).toBe(`http://127.0.0.1:${mesh.members[1]!.peer.port}=${mesh.url('a', 'b')}`);
  });

  it('isolates a member and heals', async () => {
    const { mesh, ask } = await mesh3();
    mesh.isolate('a');
    expect(await ask('a', 'b')).toBe('no answer');
    expect(await ask('c', 'a')).toBe('no answer');
    expect(await ask('b', 'c')).toBe('c:from-b');
    mesh.heal();
    expect(await ask('a', 'b')).toBe('b:from-a');
    expect(await ask('c', 'a')).toBe('a:from-c');
  });

  it('splits into majority and minority', async () => {
    const { mesh, ask } = await mesh3();
    mesh.splitMajority(['c']);
    expect(await ask('a', 'b')).toBe('b:from-a');
    expect(await ask('c', 'a')).toBe('no answer');
    expect(await ask('b', 'c')).toBe('no answer');
    expect(() => mesh.splitMajority(['a', 'b'])).toThrow();
  });

  it('one-way black hole: b stops hearing a, a still hears b', async () => {
    const { mesh, ask } = await mesh3();
    mesh.blackhole('a', 'b');
    expect(await ask('a', 'b')).toBe('no answer'); // a's request is lost
    expect(await ask('b', 'a')).toBe('no answer'); // b's request arrives, a's answer is lost
    expect(mesh.proxy('b', 'a').stats.droppedBytes).toBeGreaterThan(0);
    expect(await ask('b', 'c')).toBe('c:from-b');
    mesh.heal();
    expect(await ask('a', 'b')).toBe('b:from-a');
  });
});
