// Prints Raft messages/s between two transports on loopback (one MsgApp with
// one 256-byte entry per message, sent in bursts of 1000 per event-loop turn).
// Build like bench/wal-save.ts, then: NODE_PATH=$PWD/node_modules node <out>/bench/transport-throughput.js
import { Transport } from '../src/transport';
import { MessageType, type Message } from '../src/raft/types';

async function main(): Promise<void> {
  const port = 40000 + Math.floor(Math.random() * 900);
  const a = new Transport({ selfId: 'a', clusterId: 'c', listenUrls: [`http://127.0.0.1:${port}`] });
  const b = new Transport({ selfId: 'b', clusterId: 'c', listenUrls: [`http://127.0.0.1:${port + 1}`], maxQueueMessages: 1 << 20 });
  await a.start();
  await b.start();
  a.addPeer('b', [`http://127.0.0.1:${port + 1}`]);
  b.addPeer('a', [`http://127.0.0.1:${port}`]);
  const N = 200_000;
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  b.onMessage(() => {
    if (++got === N) done();
  });
  const data = Buffer.alloc(256, 1);
  const m = (i: number): Message => ({
    type: MessageType.App, to: 'b', from: 'a', term: 1, logTerm: 1, index: i, commit: i, reject: false, rejectHint: 0,
    entries: [{ term: 1, index: i + 1, type: 0, data }], context: new Uint8Array(0),
  });
  for (let i = 0; i < 100 && a.activeSince('b') === undefined; i++) await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  for (let sent = 0; sent < N; sent += 1000) {
    a.send(Array.from({ length: 1000 }, (_, i) => m(sent + i)));
    // Let the flush run and keep the queue under its bound.
    await new Promise((r) => setImmediate(r));
    while ((a.peerStats('b')?.queued ?? 0) > 2000) await new Promise((r) => setImmediate(r));
  }
  await finished;
  const secs = (performance.now() - t0) / 1000;
  const s = a.peerStats('b')!;
  console.log(`${(N / secs).toFixed(0)} msgs/s, ${s.framesSent} frames, dropped ${s.dropped}`);
  await a.stop();
  await b.stop();
}

void main();
