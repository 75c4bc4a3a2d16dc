import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, type Message } from '../../src/raft/types';
import { RejectReason } from '../../src/transport';
import { encodeFrame, FrameType } from '../../src/transport/frame';
import { encodeValue } from '../../src/transport/codec';
import { listenRaw, msg, startTransport, stopAll, waitFor } from './helpers';

const CLUSTER = 'cdf818194e3a8c32';
afterEach(stopAll);

describe('transport', () => {
  it('delivers messages in order per peer, field for field', async () => {
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER });
    const c = await startTransport({ selfId: 'c', clusterId: CLUSTER });
    const got: Message[] = [];
    b.t.onMessage((m) => got.push(m));
    b.t.addPeer('a', [a.url]);
    b.t.addPeer('c', [c.url]);
    a.t.addPeer('b', [b.url]);
    c.t.addPeer('b', [b.url]);
    const N = 3000;
    // Sent over several turns, from two senders at once.
    for (let chunk = 0; chunk < N; chunk += 500) {
      a.t.send(Array.from({ length: 500 }, (_, i) => msg('a', 'b', chunk + i)));
      c.t.send(Array.from({ length: 500 }, (_, i) => msg('c', 'b', chunk + i)));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => got.length === 2 * N, 'all messages');
    for (const from of ['a', 'c']) {
      expect(got.filter((m) => m.from === from).map((m) => m.index)).toEqual(Array.from({ length: N }, (_, i) => i));
    }
    const sample = got.find((m) => m.from === 'a' && m.index === 42)!;
    const expected = msg('a', 'b', 42);
    expect({ ...sample, entries: sample.entries.map((e) => ({ ...e, data: Buffer.from(e.data) })), context: Buffer.from(sample.context) }).toEqual({
      ...expected,
      entries: expected.entries.map((e) => ({ ...e, data: Buffer.from(e.data) })),
      context: Buffer.alloc(0),
    });
    expect(a.t.activeSince('b')).toBeInstanceOf(Date);
  });

  it("reports a peer's message stream closing (the peer stopped), and only a stream's", async () => {
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER });
    const lost: string[] = [];
    b.t.onPeerStreamLost((p) => lost.push(p));
    b.t.addPeer('a', [a.url]);
    a.t.addPeer('b', [b.url]);
    await waitFor(() => a.t.activeSince('b') !== undefined, 'stream active');
    expect(lost).toEqual([]);
    await a.t.stop();
    await waitFor(() => lost.length > 0, 'stream lost');
    expect(lost).toEqual(['a']);
  });

  it('writes at once when asked (now = true), and on the next turn otherwise', async () => {
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER });
    let n = 0;
    b.t.onMessage(() => n++);
    b.t.addPeer('a', [a.url]);
    a.t.addPeer('b', [b.url]);
    await waitFor(() => a.t.activeSince('b') !== undefined, 'stream active');
    a.t.send([msg('a', 'b', 1), msg('a', 'b', 2)]);
    expect(a.t.peerStats('b')!.framesSent).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(a.t.peerStats('b')!.framesSent).toBe(1);
    a.t.send([msg('a', 'b', 3), msg('a', 'b', 4)], true);
    expect(a.t.peerStats('b')!.framesSent).toBe(2);
    await waitFor(() => n === 4, 'all messages');
  });

  it('batches many messages into few frames', async () => {
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER, maxQueueMessages: 10_000 });
    let n = 0;
    b.t.onMessage(() => n++);
    b.t.addPeer('a', [a.url]);
    a.t.addPeer('b', [b.url]);
    await waitFor(() => a.t.activeSince('b') !== undefined, 'stream active');
    a.t.send(Array.from({ length: 5000 }, (_, i) => msg('a', 'b', i)));
    await waitFor(() => n === 5000, 'all messages');
    const stats = a.t.peerStats('b')!;
    expect(stats.messagesSent).toBe(5000);
    // 5000 small messages in one turn: one frame per ~1 MiB, not one per message.
    expect(stats.framesSent).toBeLessThanOrEqual(5);
    expect(b.t.received.frames).toBe(stats.framesSent);
  });

  it('reconnects after the receiver restarts on the same URL', async () => {
    const b1 = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER, backoffMaxMs: 200 });
    const unreachable: string[] = [];
    a.t.onUnreachable((p) => unreachable.push(p));
    const got1: number[] = [];
    b1.t.onMessage((m) => got1.push(m.index));
    b1.t.addPeer('a', [a.url]);
    a.t.addPeer('b', [b1.url]);
    a.t.send([msg('a', 'b', 1)]);
    await waitFor(() => got1.length === 1, 'first delivery');
    const firstActive = a.t.activeSince('b')!;
    await b1.t.stop();
    await waitFor(() => a.t.activeSince('b') === undefined, 'stream down');
    await waitFor(() => unreachable.includes('b'), 'onUnreachable after losing the stream');

    const b2 = await startTransport({ selfId: 'b', clusterId: CLUSTER }, b1.port);
    const got2: number[] = [];
    b2.t.onMessage((m) => got2.push(m.index));
    b2.t.addPeer('a', [a.url]);
    await waitFor(() => a.t.activeSince('b') !== undefined, 'stream re-established');
    expect(a.t.activeSince('b')!.getTime()).toBeGreaterThanOrEqual(firstActive.getTime());
    a.t.send([msg('a', 'b', 2), msg('a', 'b', 3)]);
    await waitFor(() => got2.length === 2, 'delivery after restart');
    expect(got2).toEqual([2, 3]);
    expect(a.t.peerStats('b')!.dials).toBeGreaterThan(1);
  });

  it('bounds the queue for a dead peer and reports it unreachable', async () => {
    // A port that is bound by nobody: take one in range, then close it.
    const { server, port } = await listenRaw((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER, maxQueueMessages: 100, maxQueueBytes: 1 << 30 });
    const unreachable: string[] = [];
    a.t.onUnreachable((p) => unreachable.push(p));
    a.t.addPeer('b', [`http://127.0.0.1:${port}`]);
    for (let round = 0; round < 20; round++) a.t.send(Array.from({ length: 500 }, (_, i) => msg('a', 'b', round * 500 + i)));
    let stats = a.t.peerStats('b')!;
    expect(stats.queued).toBe(100);
    expect(stats.dropped).toBe(10_000 - 100);
    await waitFor(() => unreachable.includes('b'), 'onUnreachable');
    // Same with the byte bound: 64 KiB of 4 KiB entries.
    const a2 = await startTransport({ selfId: 'a2', clusterId: CLUSTER, maxQueueMessages: 1 << 20, maxQueueBytes: 64 * 1024 });
    a2.t.addPeer('b', [`http://127.0.0.1:${port}`]);
    for (let i = 0; i < 1000; i++) a2.t.send([msg('a2', 'b', i, 4096)]);
    stats = a2.t.peerStats('b')!;
    expect(stats.queuedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(stats.queued).toBeLessThan(17);
    expect(stats.dropped).toBeGreaterThan(980);
  });

  it('respects backpressure from a peer that stops reading', async () => {
    // Accepts the handshake, then never reads again: the kernel buffers fill,
    // write() returns false, and the queue must stay at its cap.
    const { port } = await listenRaw((s) => {
      s.once('data', () => {
        s.write(encodeFrame(FrameType.HelloOk, encodeValue(null)));
        s.pause();
      });
    });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER, maxQueueMessages: 200, maxQueueBytes: 1 << 30 });
    const unreachable: string[] = [];
    a.t.onUnreachable((p) => unreachable.push(p));
    a.t.addPeer('b', [`http://127.0.0.1:${port}`]);
    await waitFor(() => a.t.activeSince('b') !== undefined, 'stream active');
    let sent = 0;
    // Bounded: 400 turns of 200 x 16 KiB messages at most (~1.3 GB offered).
    for (let turn = 0; turn < 400 && a.t.peerStats('b')!.dropped === 0; turn++) {
      a.t.send(Array.from({ length: 200 }, (_, i) => msg('a', 'b', sent + i, 16 * 1024)));
      sent += 200;
      await new Promise((r) => setImmediate(r));
    }
    const stats = a.t.peerStats('b')!;
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.queued).toBeLessThanOrEqual(200);
    expect(stats.messagesSent).toBeLessThan(sent);
    await waitFor(() => unreachable.includes('b'), 'onUnreachable');
  });

  it('streams a large snapshot in chunks on its own connection', async () => {
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER, snapshotChunkBytes: 64 * 1024 });
    const got: Message[] = [];
    b.t.onMessage((m) => got.push(m));
    b.t.addPeer('a', [a.url]);
    a.t.addPeer('b', [b.url]);
    const status: Array<[string, boolean]> = [];
    a.t.onSnapshotStatus((p, ok) => status.push([p, ok]));
    const data = randomBytes(24 * 1024 * 1024 + 123);
    const confState = { voters: ['a', 'b'], learners: ['c'], votersOutgoing: [], learnersNext: [], autoLeave: false };
    const snap: Message = { ...msg('a', 'b', 0), type: MessageType.Snap, entries: [], snapshot: { metadata: { index: 500, term: 7, confState }, data } };
    a.t.send([snap, msg('a', 'b', 1)]);
    await waitFor(() => status.length === 1, 'snapshot status', 2400);
    expect(status).toEqual([['b', true]]);
    // The append after it went on the stream, not behind the snapshot.
    expect(got.map((m) => m.type)).toContain(MessageType.App);
    const s = got.find((m) => m.type === MessageType.Snap)!;
    expect(s.snapshot!.metadata).toEqual({ index: 500, term: 7, confState });
    expect(Buffer.from(s.snapshot!.data).equals(data)).toBe(true);
    expect(b.t.received.snapshots).toBe(1);
    expect(a.t.peerStats('b')!.messagesSent).toBe(1);
  });

  it('reports a failed snapshot to an unreachable peer', async () => {
    const { server, port } = await listenRaw((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER });
    a.t.addPeer('b', [`http://127.0.0.1:${port}`]);
    const status: Array<[string, boolean]> = [];
    a.t.onSnapshotStatus((p, ok) => status.push([p, ok]));
    const confState = { voters: ['a', 'b'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    a.t.send([{ ...msg('a', 'b', 0), type: MessageType.Snap, snapshot: { metadata: { index: 5, term: 1, confState }, data: Buffer.alloc(1000) } }]);
    await waitFor(() => status.length === 1, 'snapshot status');
    expect(status).toEqual([['b', false]]);
  });

  it('refuses connections from another cluster, and from unknown or removed members', async () => {
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const x = await startTransport({ selfId: 'a', clusterId: 'ffffffffffffffff' });
    let delivered = 0;
    b.t.onMessage(() => delivered++);
    b.t.addPeer('a', [x.url]);
    const rejected: string[] = [];
    x.t.onRejected((_, reason) => rejected.push(reason));
    x.t.addPeer('b', [b.url]);
    x.t.send([msg('a', 'b', 1)]);
    await waitFor(() => rejected.length >= 1, 'rejection');
    expect(rejected[0]).toBe(RejectReason.ClusterMismatch);
    expect(b.t.received.rejectedConnections).toBeGreaterThanOrEqual(1);
    expect(x.t.activeSince('b')).toBeUndefined();
    expect(delivered).toBe(0);

    const u = await startTransport({ selfId: 'u', clusterId: CLUSTER });
    const uReasons: string[] = [];
    u.t.onRejected((_, reason) => uReasons.push(reason));
    u.t.addPeer('b', [b.url]);
    await waitFor(() => uReasons.length >= 1, 'unknown member rejection');
    expect(uReasons[0]).toBe(RejectReason.UnknownMember);
    b.t.removePeer('a');
    const r = await startTransport({ selfId: 'a', clusterId: CLUSTER });
    const rReasons: string[] = [];
    r.t.onRejected((_, reason) => rReasons.push(reason));
    r.t.addPeer('b', [b.url]);
    await waitFor(() => rReasons.length >= 1, 'removed member rejection');
    expect(rReasons[0]).toBe(RejectReason.Removed);
    expect(delivered).toBe(0);
  });

  it('reaches a peer only through its advertised URL, e.g. a proxy that cuts links', async () => {
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const links = new Set<net.Socket>();
    const proxy = await listenRaw((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: b.port });
      links.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const cut = (): void => void (client.destroy(), upstream.destroy());
      client.on('error', cut).on('close', cut);
      upstream.on('error', cut).on('close', cut);
    });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER, backoffMaxMs: 100 });
    const got: number[] = [];
    b.t.onMessage((m) => got.push(m.index));
    b.t.addPeer('a', [a.url]);
    a.t.addPeer('b', [`http://127.0.0.1:${proxy.port}`]);
    a.t.send([msg('a', 'b', 1)]);
    await waitFor(() => got.length === 1, 'delivery through proxy');
    for (const s of links) s.destroy();
    links.clear();
    await waitFor(() => a.t.activeSince('b') === undefined, 'link cut noticed');
    await waitFor(() => a.t.activeSince('b') !== undefined, 'link re-established');
    a.t.send([msg('a', 'b', 2)]);
    await waitFor(() => got.length === 2, 'delivery after the cut');
    expect(got).toEqual([1, 2]);
  });

  it('follows a peer to its new URL after updatePeer', async () => {
    const { server, port } = await listenRaw((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
    const b = await startTransport({ selfId: 'b', clusterId: CLUSTER });
    const a = await startTransport({ selfId: 'a', clusterId: CLUSTER });
    const got: number[] = [];
    b.t.onMessage((m) => got.push(m.index));
    b.t.addPeer('a', [a.url]);
    a.t.addPeer('b', [`http://127.0.0.1:${port}`]);
    a.t.send([msg('a', 'b', 1)]);
    await waitFor(() => a.t.peerStats('b')!.dials >= 2, 'a failed dial');
    a.t.updatePeer('b', [b.url]);
    await waitFor(() => got.length === 1, 'delivery at the new URL');
    expect(got).toEqual([1]);
  });
});
