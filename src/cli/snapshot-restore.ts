// `etcd-ts snapshot restore <file> [--name N] [--data-dir D] [--skip-hash-check]`:
// turns a snapshot saved by `etcdctl snapshot save` from a real etcd (or from
// etcd-ts) into an etcd-ts data dir. As etcdctl's restore: the data dir must
// not exist, the snapshot's SHA-256 (which etcdctl appends) is checked unless
// told not to, and the members started from restored data dirs form a new
// cluster from their flags. Prints one line and returns the exit status.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Level } from 'level';
import { MvccStore } from '../mvcc/store';
import { dbPath } from '../server/storage-open';
import { BoltReader } from '../snapshot/bbolt-reader';
import { importEtcdBackend } from '../snapshot/etcd-import';

const USAGE = 'usage: etcd-ts snapshot restore <filename> [--name <name>] [--data-dir <dir>] [--skip-hash-check]';
const SHA256_BYTES = 32;

interface RestoreArgs {
  file: string;
  dataDir: string;
  skipHashCheck: boolean;
}

function parse(argv: readonly string[]): RestoreArgs {
  if (argv[0] !== 'restore' || !argv[1] || argv[1].startsWith('--')) throw new Error(USAGE);
  let name = 'default';
  let dataDir: string | undefined;
  let skipHashCheck = false;
  for (let i = 2; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--name') name = value();
    else if (flag === '--data-dir') dataDir = value();
    else if (flag === '--skip-hash-check') skipHashCheck = inline === undefined || inline === 'true';
    else throw new Error(`unknown flag ${flag}\n${USAGE}`);
  }
  return { file: argv[1], dataDir: dataDir ?? `${name}.etcd`, skipHashCheck };
}

/** The database's length in the file: without the digest etcdctl appends, once it is checked. */
function checkedLength(fd: number, size: number, skipHashCheck: boolean): number {
  // etcd's rule: a bbolt file is whole pages, so a size 32 bytes past a multiple of 512 carries a digest.
  if (size % 512 !== SHA256_BYTES) {
    if (!skipHashCheck) throw new Error('snapshot missing hash but --skip-hash-check=false');
    return size;
  }
  const length = size - SHA256_BYTES;
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  for (let at = 0; at < length; ) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - at), at);
    if (n === 0) throw new Error('snapshot file shrank while being read');
    hash.update(buf.subarray(0, n));
    at += n;
  }
  const stored = Buffer.alloc(SHA256_BYTES);
  fs.readSync(fd, stored, 0, SHA256_BYTES, length);
  if (!skipHashCheck && !hash.digest().equals(stored)) throw new Error('expected sha256 does not match the snapshot\'s contents');
  return length;
}

export async function snapshotCommand(argv: readonly string[]): Promise<number> {
  let args: RestoreArgs;
  try {
    args = parse(argv);
  } catch (e) {
    process.stderr.write(`etcd-ts: ${(e as Error).message}\n`);
    return 2;
  }
  if (fs.existsSync(args.dataDir)) {
    process.stderr.write(`etcd-ts: data-dir "${args.dataDir}" exists\n`);
    return 1;
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(args.file, 'r');
    const length = checkedLength(fd, fs.fstatSync(fd).size, args.skipHashCheck);
    const reader = new BoltReader(fd, length);
    fs.mkdirSync(path.dirname(dbPath(args.dataDir)), { recursive: true });
    const db = new Level<Buffer, Buffer>(dbPath(args.dataDir), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    try {
      const store = await MvccStore.open(db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' }));
      const s = await importEtcdBackend(reader, store);
      await store.close();
      process.stdout.write(
        `restored snapshot ${args.file} into ${args.dataDir}: revision ${s.revision}, compacted ${s.compactRevision}, ${s.versions} versions, ${s.leases} leases, ${s.alarms} alarms\n`,
      );
    } finally {
      await db.close();
    }
    return 0;
  } catch (e) {
    fs.rmSync(args.dataDir, { recursive: true, force: true });
    process.stderr.write(`etcd-ts: snapshot restore failed: ${(e as Error).message}\n`);
    return 1;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
