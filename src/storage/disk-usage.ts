// Bytes a database directory takes on disk: what etcd's Status calls dbSize
// (the size of its bbolt file, which only a defragment shrinks). LevelDB's
// directory holds its tables, its log, its manifest and small bookkeeping
// files; all of them count.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    // A file LevelDB deletes between the listing and the stat is simply not counted.
    const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (st?.isFile()) total += st.size;
  }
  return total;
}
