// Transports on 127.0.0.1 ports in 40000-40999, retrying on a taken port,
// plus bounded waiting: every loop here has a count limit.
import net from 'node:net';
import { Transport, type TransportOptions } from '../../src/transport';
import { MessageType, type Message } from '../../src/raft/types';

const started: Transport[] = [];
const servers: net.Server[] = [];
const rawSockets = new Set<net.Socket>();

export async function startTransport(opts: Omit<TransportOptions, 'listenUrls'>, port?: number): Promise<{ t: Transport; url: string; port: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const p = port ?? 40000 + Math.floor(Math.random() * 1000);
    const url = `http://127.0.0.1:${p}`;
    const t = new Transport({ ...opts, listenUrls: [url] });
    try {
      await t.start();
      started.push(t);
      return { t, url, port: p };
    } catch (err) {
      await t.stop();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (port !== undefined) await sleep(50);
    }
  }
  throw new Error('no free port in 40000-40999');
}

/** A raw TCP server on a free port in range (for proxies and misbehaving peers). */
export async function listenRaw(onConn: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 40000 + Math.floor(Math.random() * 1000);
    const server = net.createServer((s) => {
      rawSockets.add(s);
      s.on('close', () => rawSockets.delete(s));
      onConn(s);
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ host: '127.0.0.1', port }, () => resolve(true));
    });
    if (ok) {
      servers.push(server);
      return { server, port };
    }
  }
  throw new Error('no free port in 40000-40999');
}

export async function stopAll(): Promise<void> {
  for (const t of started.splice(0)) await t.stop();
  for (const s of rawSockets) s.destroy();
  rawSockets.clear();
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` at most `tries` times; fails the test with `what` if it never holds. */
export async function waitFor(cond: () => boolean, what: string, tries = 600, intervalMs = 25): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function msg(from: string, to: string, index: number, dataBytes = 8): Message {
  return {
    type: MessageType.App,
    from,
    to,
    term: 3,
    logTerm: 2,
    index,
    entries: [{ term: 3, index: index + 1, type: 0, data: Buffer.alloc(dataBytes, index % 251) }],
    commit: index,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
  };
}
