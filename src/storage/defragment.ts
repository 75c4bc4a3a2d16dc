// Defragment (etcd's, one member at a time). etcd rewrites its bbolt file
// without the free pages a compaction left. LevelDB's counterpart is a full
// compaction: the memtable goes into a table, and every table is rewritten
// without the records that were deleted or overwritten, so the directory
// shrinks to about what is live. Reads and writes go on meanwhile.
import type { Level } from 'level';

/** What classic-level (level's Node.js implementation) offers beyond level's common type. */
interface Compactable {
  compactRange(start: Buffer, end: Buffer): Promise<void>;
}

export async function defragment(db: Level<Buffer, Buffer>): Promise<void> {
  const native = db as unknown as Partial<Compactable>;
  if (typeof native.compactRange !== 'function') throw new Error('this LevelDB binding cannot compact a range');
  // Every key of the database lives under a sublevel prefix ("!name!"), so
  // this range covers them all.
  await native.compactRange.call(db, Buffer.alloc(0), Buffer.from([0xff]));
}
