// Writing a batch of puts and deletes into a LevelDB sublevel, the fast way. The
// WAL and the MVCC store each own a sublevel of the member's one database and
// write a batch per Raft Ready, so this sits on every write's path.

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** The slice of abstract-level's API a writer needs from a sublevel (or a plain db). */
export interface BatchTarget {
  batch(operations: BatchOp[], options: { sync?: boolean }): Promise<void>;
}

/** abstract-level's chained batch on the root database. */
interface ChainedBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
  write(options: { sync?: boolean }): Promise<void>;
}

/** What a sublevel exposes of itself and its root. */
interface SublevelLike {
  prefix?: unknown;
  db?: { batch?: unknown; keyEncoding?: () => { name: string }; valueEncoding?: () => { name: string } };
}

export type BatchWriter = (ops: BatchOp[], sync: boolean) => Promise<void>;

/**
 * For a real sublevel of a database with buffer keys and values, write through
 * a chained batch on the root with the sublevel's prefix already on each key.
 * abstract-level's own routes (sublevel.batch([...]) or the `sublevel` option
 * of a root batch) re-encode and re-prefix every key through several layers:
 * measured 14 µs of CPU per 300-byte put against 5.5 µs this way, and a member
 * makes two or three puts per client write (WAL entry, store record, meta).
 * Anything else gets its own batch().
 */
export function makeBatchWriter(db: BatchTarget): BatchWriter {
  const sub = db as BatchTarget & SublevelLike;
  const root = sub.db;
  const direct =
    root !== undefined &&
    root !== (db as unknown) &&
    typeof root.batch === 'function' &&
    typeof sub.prefix === 'string' &&
    root.keyEncoding?.().name === 'buffer' &&
    root.valueEncoding?.().name === 'buffer';
  if (direct) {
    const prefix = Buffer.from(sub.prefix as string, 'utf8');
    const newBatch = root.batch as (this: unknown) => ChainedBatch;
    return (ops, sync) => {
      const b = newBatch.call(root);
      for (const op of ops) {
        const key = Buffer.concat([prefix, op.key], prefix.length + op.key.length);
        if (op.type === 'put') b.put(key, op.value);
        else b.del(key);
      }
      return b.write({ sync });
    };
  }
  return (ops, sync) => db.batch(ops, { sync });
}
