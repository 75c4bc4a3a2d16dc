// MVCC store figures: apply+commit throughput by batch size, 1,000-key range
// reads, memory per 100,000 keys of 256-byte values, and reopen time with
// 1,000,000 versions. Prints figures; asserts nothing.
// Run: npm run bench:mvcc

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Level } from 'level';
import { MvccStore } from '../src/mvcc';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const VALUE = Buffer.alloc(256, 0x61);

interface Opened {
  db: Level<Buffer, Buffer>;
  store: MvccStore;
  dir: string;
}

async function open(dir = mkdtempSync(join(tmpdir(), 'mvcc-bench-'))): Promise<Opened> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const store = await MvccStore.open(db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' }));
  return { db, store, dir };
}

async function shut(o: Opened, remove = true): Promise<void> {
  await o.store.close();
  await o.db.close();
  if (remove) rmSync(o.dir, { recursive: true, force: true });
}

function key(i: number): Buffer {
  return Buffer.from(`/registry/pods/ns-${i % 97}/pod-${i.toString().padStart(8, '0')}`);
}

/** Wall-clock rate, and the rate per CPU-second of this process (less sensitive to a loaded machine). */
async function putsPerSecond(batch: number, total: number): Promise<{ wall: number; cpu: number }> {
  const o = await open();
  let idx = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < total; ) {
    for (let i = 0; i < batch; i++, done++) {
      idx++;
      o.store.applyWrite({ put: { key: key(done % 50_000), value: VALUE } }, idx);
    }
    await o.store.commit();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  await shut(o);
  return { wall: total / secs, cpu: total / ((c.user + c.system) / 1e6) };
}

/** Keys whose byte order is their numeric order, so a range from key i holds keys i, i+1, ... */
function sortedKey(i: number): Buffer {
  return Buffer.from(`/registry/pods/default/pod-${i.toString().padStart(8, '0')}`);
}

async function rangesPerSecond(): Promise<{ wall: number; cpu: number }> {
  const o = await open();
  let idx = 0;
  for (let i = 0; i < 100_000; i++) o.store.applyWrite({ put: { key: sortedKey(i), value: VALUE } }, ++idx);
  await o.store.commit();
  const n = 2000;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let got = 0;
  for (let i = 0; i < n; i++) {
    const r = o.store.range({ key: sortedKey((i * 7919) % 90_000), rangeEnd: Buffer.from([0]), limit: 1000 });
    got += r.kvs.length;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  if (got !== n * 1000) throw new Error(`range returned ${got}`);
  await shut(o);
  return { wall: n / secs, cpu: n / ((c.user + c.system) / 1e6) };
}

/** Heap + buffer growth for 100k keys, and the process RSS after loading them. */
async function memoryPer100k(): Promise<{ heapMiB: number; rssMiB: number; overheadPerKey: number }> {
  const o = await open();
  gc();
  const h0 = process.memoryUsage();
  let idx = 0;
  for (let i = 0; i < 100_000; i++) {
    o.store.applyWrite({ put: { key: key(i), value: Buffer.from(VALUE) } }, ++idx);
    if (i % 1000 === 999) await o.store.commit();
  }
  await o.store.commit();
  gc();
  const h1 = process.memoryUsage();
  // Values live outside the JS heap (ArrayBuffers): count both.
  const heap = h1.heapUsed + h1.arrayBuffers - (h0.heapUsed + h0.arrayBuffers);
  const rss = h1.rss;
  await shut(o);
  const keyBytes = key(0).length;
  return { heapMiB: heap / 2 ** 20, rssMiB: rss / 2 ** 20, overheadPerKey: heap / 100_000 - 256 - keyBytes };
}

async function timedOpen(dir: string): Promise<{ o: Opened; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const o = await open(dir);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { o, wall, cpu: (c.user + c.system) / 1e6 };
}

/**
 * Reopen right after writing (LevelDB still compacting in the background,
 * and its threads count in the CPU figure), then once more when settled.
 */
async function reopenMillion() {
  const o = await open();
  let idx = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) {
    o.store.applyWrite({ put: { key: key(i % 200_000), value: VALUE.subarray(0, 64) } }, ++idx);
    if (i % 1000 === 999) await o.store.commit();
  }
  await o.store.commit();
  const writeSecs = Number(process.hrtime.bigint() - t0) / 1e9;
  await shut(o, false);
  const first = await timedOpen(o.dir);
  if (first.o.store.rev !== 1_000_001) throw new Error(`reopened at rev ${first.o.store.rev}`);
  const keys = first.o.store.keyCount;
  await shut(first.o, false);
  const second = await timedOpen(o.dir);
  await shut(second.o);
  return { writeSecs, keys, first, second };
}

async function main(): Promise<void> {
  // Optional filter: node dist/bench/mvcc-bench.js [puts] [range] [mem] [reopen]
  const only = new Set(process.argv.slice(2));
  const want = (part: string) => only.size === 0 || only.has(part);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`node ${process.version}, MVCC store on classic-level (sync: false commits), loadavg ${loadavg()[0]!.toFixed(1)}`);
  if (want('mem')) {
    const mem = await memoryPer100k();
    console.log(
      `memory for 100,000 keys x 256 B: heap+buffers +${mem.heapMiB.toFixed(1)} MiB, process RSS then ${mem.rssMiB.toFixed(1)} MiB, ` +
        `overhead ${fmt(mem.overheadPerKey)} B/key beyond key+value`,
    );
  }
  if (want('puts')) for (const [batch, total] of [
    [1, 20_000],
    [100, 200_000],
    [1000, 400_000],
  ] as const) {
    const r = await putsPerSecond(batch, total);
    console.log(`puts/s, batches of ${batch} (apply + one commit per batch): ${fmt(r.wall)} wall, ${fmt(r.cpu)} per CPU-second`);
  }
  if (want('range')) {
    const r = await rangesPerSecond();
    console.log(`ranges of 1,000 keys per second (100k keys, 256 B values): ${fmt(r.wall)} wall, ${fmt(r.cpu)} per CPU-second`);
  }
  if (!want('reopen')) return;
  const re = await reopenMillion();
  console.log(
    `1,000,000 versions (200k keys x 5, 64 B values): written in ${re.writeSecs.toFixed(1)} s; ` +
      `reopen ${re.first.wall.toFixed(2)} s wall / ${re.first.cpu.toFixed(2)} s CPU right after, ` +
      `${re.second.wall.toFixed(2)} s wall / ${re.second.cpu.toFixed(2)} s CPU settled (${fmt(re.keys)} keys)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
