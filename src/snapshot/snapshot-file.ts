// A point-in-time copy of the member's state as an etcd backend file (bbolt),
// written to a private temporary directory for the Snapshot call to stream,
// and removed once it is sent (or the call fails).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeBoltFile } from './bbolt-writer';
import { etcdBuckets, type MemberState } from './etcd-backend';

export interface SnapshotFile {
  path: string;
  size: number;
  dispose(): Promise<void>;
}

/** `state` must be captured in one go (its records iterate a view taken at capture). */
export async function writeSnapshotFile(state: MemberState): Promise<SnapshotFile> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'etcd-ts-snapshot-'));
  const dispose = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  const file = path.join(dir, 'db');
  try {
    const fh = await fs.open(file, 'w+');
    try {
      const size = await writeBoltFile(fh, etcdBuckets(state));
      return { path: file, size, dispose };
    } finally {
      await fh.close();
    }
  } catch (e) {
    await dispose();
    throw e;
  }
}
