// Writes a bbolt database file (the format of etcd's backend, and so of the
// files `etcdctl snapshot save` keeps and `etcdctl snapshot restore` reads)
// from buckets of sorted key/value pairs. Written once, front to back, never
// updated: every page is reachable from the root and the free list is empty,
// which is what bbolt's consistency check (run by `snapshot status`) wants.
//
// The layout, as bbolt reads it (all integers little-endian, bbolt's native
// order on the machines etcd runs on):
//   page header (16 bytes): id u64, flags u16, count u16, overflow u32
//   meta (pages 0 and 1): magic, version 2, page size, flags, root bucket
//     {root page, sequence}, free list page, page count, txid, FNV-1a checksum
//   free list page: count ids (none here)
//   leaf page: count elements {flags u32, pos u32, ksize u32, vsize u32}, then
//     keys and values; pos is counted from the element itself
//   branch page: count elements {pos u32, ksize u32, child page u64}, then
//     keys: each child's first key
// A bucket's value in its parent's leaf is {root page u64, sequence u64} with
// the leaf element flag 1. A page whose content is larger than the page size
// runs on into `overflow` following pages.
import type { FileHandle } from 'node:fs/promises';
import { BOLT_MAGIC, BOLT_VERSION, BRANCH_FLAG, BUCKET_LEAF_FLAG, ELEMENT, FREELIST_FLAG, LEAF_FLAG, META_FLAG, PAGE_HEADER, fnv1a64 } from './bbolt-format';

export const BOLT_PAGE_SIZE = 4096;
const HEADER = PAGE_HEADER;

export interface BoltBucket {
  name: Buffer;
  /** Pairs in ascending key order (bytewise), keys unique. */
  entries: AsyncIterable<[Buffer, Buffer]> | Iterable<[Buffer, Buffer]>;
}

interface Element {
  flags: number;
  key: Buffer;
  value: Buffer;
}

/** A page's first key and id: what the level above refers to it by. */
interface PageRef {
  key: Buffer;
  pgid: bigint;
}

class PageAllocator {
  /** Pages 0-1 are the metas, page 2 the (empty) free list. */
  next = 3n;
  constructor(private readonly file: FileHandle) {}

  /** Writes a page (and its overflow) at the next free id; returns that id. */
  async write(flags: number, count: number, body: Buffer): Promise<bigint> {
    const pages = Math.max(1, Math.ceil((HEADER + body.length) / BOLT_PAGE_SIZE));
    const buf = Buffer.alloc(pages * BOLT_PAGE_SIZE);
    const id = this.next;
    writePageHeader(buf, id, flags, count, pages - 1);
    body.copy(buf, HEADER);
    await this.file.write(buf, 0, buf.length, Number(id) * BOLT_PAGE_SIZE);
    this.next += BigInt(pages);
    return id;
  }
}

function writePageHeader(buf: Buffer, id: bigint, flags: number, count: number, overflow: number): void {
  buf.writeBigUInt64LE(id, 0);
  buf.writeUInt16LE(flags, 8);
  buf.writeUInt16LE(count, 10);
  buf.writeUInt32LE(overflow, 12);
}

/** Packs elements into pages as they come, keeping each page within one page size unless one element alone is larger. */
class LevelPacker {
  private elements: Element[] = [];
  private bytes = 0;
  readonly refs: PageRef[] = [];

  constructor(
    private readonly pages: PageAllocator,
    private readonly branch: boolean,
  ) {}

  private size(e: Element): number {
    return ELEMENT + e.key.length + (this.branch ? 0 : e.value.length);
  }

  async add(e: Element): Promise<void> {
    const s = this.size(e);
    if (this.elements.length > 0 && (HEADER + this.bytes + s > BOLT_PAGE_SIZE || this.elements.length === 0xffff)) await this.flush();
    this.elements.push(e);
    this.bytes += s;
  }

  /** Writes what is pending as one page (an empty leaf if nothing was ever added). */
  async flush(): Promise<void> {
    if (this.elements.length === 0 && (this.refs.length > 0 || this.branch)) return;
    const els = this.elements;
    const body = Buffer.alloc(this.bytes);
    let data = els.length * ELEMENT;
    els.forEach((e, i) => {
      const at = i * ELEMENT;
      if (this.branch) {
        body.writeUInt32LE(data - at, at);
        body.writeUInt32LE(e.key.length, at + 4);
        body.writeBigUInt64LE(e.value.readBigUInt64LE(0), at + 8);
        e.key.copy(body, data);
        data += e.key.length;
      } else {
        body.writeUInt32LE(e.flags, at);
        body.writeUInt32LE(data - at, at + 4);
        body.writeUInt32LE(e.key.length, at + 8);
        body.writeUInt32LE(e.value.length, at + 12);
        e.key.copy(body, data);
        e.value.copy(body, data + e.key.length);
        data += e.key.length + e.value.length;
      }
    });
    const pgid = await this.pages.write(this.branch ? BRANCH_FLAG : LEAF_FLAG, els.length, body);
    this.refs.push({ key: els[0]?.key ?? Buffer.alloc(0), pgid });
    this.elements = [];
    this.bytes = 0;
  }
}

/** Writes one B+tree (leaves, then branch levels up to a single root); returns the root's page id. */
async function writeTree(pages: PageAllocator, elements: AsyncIterable<Element> | Iterable<Element>): Promise<bigint> {
  const leaves = new LevelPacker(pages, false);
  for await (const e of elements) await leaves.add(e);
  await leaves.flush();
  let level = leaves.refs;
  while (level.length > 1) {
    const branches = new LevelPacker(pages, true);
    for (const ref of level) {
      const child = Buffer.alloc(8);
      child.writeBigUInt64LE(ref.pgid, 0);
      await branches.add({ flags: 0, key: ref.key, value: child });
    }
    await branches.flush();
    level = branches.refs;
  }
  return level[0]!.pgid;
}

async function* asElements(entries: BoltBucket['entries']): AsyncGenerator<Element> {
  for await (const [key, value] of entries) yield { flags: 0, key, value };
}

function metaPage(id: bigint, root: bigint, pageCount: bigint, txid: bigint): Buffer {
  const page = Buffer.alloc(BOLT_PAGE_SIZE);
  writePageHeader(page, id, META_FLAG, 0, 0);
  const m = page.subarray(HEADER, HEADER + 64);
  m.writeUInt32LE(BOLT_MAGIC, 0);
  m.writeUInt32LE(BOLT_VERSION, 4);
  m.writeUInt32LE(BOLT_PAGE_SIZE, 8);
  m.writeUInt32LE(0, 12);
  m.writeBigUInt64LE(root, 16); // root bucket: root page
  m.writeBigUInt64LE(0n, 24); // root bucket: sequence
  m.writeBigUInt64LE(2n, 32); // free list page
  m.writeBigUInt64LE(pageCount, 40);
  m.writeBigUInt64LE(txid, 48);
  m.writeBigUInt64LE(fnv1a64(m.subarray(0, 56)), 56);
  return page;
}

/**
 * Writes the buckets (in ascending name order) as a complete bbolt file into
 * `file`, from offset 0; returns the file's size in bytes.
 */
export async function writeBoltFile(file: FileHandle, buckets: BoltBucket[]): Promise<number> {
  const pages = new PageAllocator(file);
  const top: Element[] = [];
  for (const bucket of buckets) {
    const root = await writeTree(pages, asElements(bucket.entries));
    const header = Buffer.alloc(16);
    header.writeBigUInt64LE(root, 0);
    top.push({ flags: BUCKET_LEAF_FLAG, key: bucket.name, value: header });
  }
  const root = await writeTree(pages, top);
  const freelist = Buffer.alloc(BOLT_PAGE_SIZE);
  writePageHeader(freelist, 2n, FREELIST_FLAG, 0, 0);
  await file.write(freelist, 0, freelist.length, 2 * BOLT_PAGE_SIZE);
  // Two metas, as bbolt keeps; it opens the one with the higher txid.
  await file.write(metaPage(0n, root, pages.next, 0n), 0, BOLT_PAGE_SIZE, 0);
  await file.write(metaPage(1n, root, pages.next, 1n), 0, BOLT_PAGE_SIZE, BOLT_PAGE_SIZE);
  const size = Number(pages.next) * BOLT_PAGE_SIZE;
  await file.truncate(size);
  return size;
}
