// Reads a bbolt database file (an etcd backend, as `etcdctl snapshot save`
// keeps it): the newer valid meta page, the root bucket, and each bucket's
// key/value pairs in key order, through branch pages, overflow pages and
// inline buckets (small buckets bbolt stores inside their parent's leaf).
// The layout is the one bbolt-writer.ts writes; see there.
import * as fs from 'node:fs';
import { BOLT_MAGIC, BOLT_VERSION, BRANCH_FLAG, BUCKET_LEAF_FLAG, ELEMENT, LEAF_FLAG, META_FLAG, PAGE_HEADER as HEADER, fnv1a64 } from './bbolt-format';

export class BoltFormatError extends Error {}

/** A page's bytes (its overflow included) and its header fields. */
interface Page {
  buf: Buffer;
  flags: number;
  count: number;
}

export class BoltReader {
  readonly pageSize: number;
  private readonly root: bigint;
  private readonly pageCount: bigint;

  /** `length`: the database's bytes in the file (a snapshot may carry a digest after them). */
  constructor(
    private readonly fd: number,
    private readonly length: number,
  ) {
    const first = this.read(0, 4096);
    const metas = [0, 1].map((i) => {
      const size = i === 0 ? 4096 : first.subarray(HEADER).readUInt32LE(8);
      return this.meta(i === 0 ? first : this.read(size, size));
    });
    const valid = metas.filter((m) => m !== undefined).sort((a, b) => (a!.txid > b!.txid ? -1 : 1));
    if (valid.length === 0) throw new BoltFormatError('not a bbolt database: no valid meta page');
    const m = valid[0]!;
    this.pageSize = m.pageSize;
    this.root = m.root;
    this.pageCount = m.pageCount;
  }

  private read(offset: number, size: number): Buffer {
    if (offset + size > this.length) throw new BoltFormatError(`page at ${offset} runs past the end of the database`);
    const b = Buffer.alloc(size);
    fs.readSync(this.fd, b, 0, size, offset);
    return b;
  }

  private meta(page: Buffer): { pageSize: number; root: bigint; pageCount: bigint; txid: bigint } | undefined {
    if ((page.readUInt16LE(8) & META_FLAG) === 0) return undefined;
    const m = page.subarray(HEADER, HEADER + 64);
    if (m.readUInt32LE(0) !== BOLT_MAGIC || m.readUInt32LE(4) !== BOLT_VERSION) return undefined;
    if (m.readBigUInt64LE(56) !== fnv1a64(m.subarray(0, 56))) return undefined;
    return { pageSize: m.readUInt32LE(8), root: m.readBigUInt64LE(16), pageCount: m.readBigUInt64LE(40), txid: m.readBigUInt64LE(48) };
  }

  private page(id: bigint): Page {
    if (id < 2n || id >= this.pageCount) throw new BoltFormatError(`page ${id} out of range`);
    const head = this.read(Number(id) * this.pageSize, HEADER);
    const overflow = head.readUInt32LE(12);
    const buf = this.read(Number(id) * this.pageSize, (overflow + 1) * this.pageSize);
    return { buf, flags: buf.readUInt16LE(8), count: buf.readUInt16LE(10) };
  }

  /** Leaf elements of the tree under `page`, in key order. */
  private *walk(p: Page): Generator<{ flags: number; key: Buffer; value: Buffer }> {
    if (p.flags & BRANCH_FLAG) {
      for (let i = 0; i < p.count; i++) yield* this.walk(this.page(p.buf.readBigUInt64LE(HEADER + i * ELEMENT + 8)));
    } else if (p.flags & LEAF_FLAG) {
      for (let i = 0; i < p.count; i++) {
        const at = HEADER + i * ELEMENT;
        const pos = at + p.buf.readUInt32LE(at + 4);
        const ksize = p.buf.readUInt32LE(at + 8);
        const vsize = p.buf.readUInt32LE(at + 12);
        yield { flags: p.buf.readUInt32LE(at), key: p.buf.subarray(pos, pos + ksize), value: p.buf.subarray(pos + ksize, pos + ksize + vsize) };
      }
    } else {
      throw new BoltFormatError(`page of unexpected type ${p.flags}`);
    }
  }

  /** A bucket's tree from its value in the parent: a root page, or (root 0) an inline page after the header. */
  private bucketTree(value: Buffer): Page {
    const root = value.readBigUInt64LE(0);
    if (root !== 0n) return this.page(root);
    const inline = value.subarray(HEADER);
    return { buf: inline, flags: inline.readUInt16LE(8), count: inline.readUInt16LE(10) };
  }

  /** Names of the top-level buckets. */
  buckets(): string[] {
    return [...this.walk(this.page(this.root))].filter((e) => e.flags & BUCKET_LEAF_FLAG).map((e) => e.key.toString('latin1'));
  }

  /** A top-level bucket's key/value pairs (nested buckets skipped), in key order; nothing if it is absent. */
  *entries(bucket: string): Generator<[Buffer, Buffer]> {
    const name = Buffer.from(bucket, 'latin1');
    for (const e of this.walk(this.page(this.root))) {
      if (!(e.flags & BUCKET_LEAF_FLAG) || !e.key.equals(name)) continue;
      for (const kv of this.walk(this.bucketTree(e.value))) if (!(kv.flags & BUCKET_LEAF_FLAG)) yield [Buffer.from(kv.key), Buffer.from(kv.value)];
      return;
    }
  }
}
