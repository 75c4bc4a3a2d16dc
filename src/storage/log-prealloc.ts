// Keeps room allocated ahead of LevelDB's write-ahead log file, as etcd
// preallocates its WAL segments (64 MB each).
//
// LevelDB appends to its NNNNNN.log and fdatasyncs it for every synced write.
// An append moves the file's size, so each fdatasync writes the inode as well
// as the data: on this machine's ext4, 3.0 disk writes per fdatasync instead
// of 2.2, p50 134-187 µs instead of 101-139 (2,000 synced 450-byte writes per
// run, three to five runs per way). When the file already extends past the
// writer, only the data (and, once per newly used block, the extent) is written.
//
// The file is extended with fallocate(1) (util-linux) on LevelDB's own path:
// fallocate never changes a byte already in the file, so it cannot race with
// LevelDB's writer, whatever that writer is doing meanwhile. Node has no
// fallocate of its own, and writing zeros or ftruncate could overwrite or cut
// what LevelDB writes at the same moment. LevelDB's log reader skips the
// zero-filled tail such a file has after a crash: its format reserves a
// zero-length record of type 0 for preallocated files and drops the rest of
// the block on meeting one (db/log_reader.cc).
//
// Where to extend comes from /proc: the log's descriptor among /proc/self/fd
// (the one open on the log's inode) and its write offset in /proc/self/fdinfo.
// Looking up the offset each time (the descriptor's link, then an open, read
// and close of fdinfo) cost a member ~200 µs of its event loop per look under
// one writing client: at a look every 20 ms, 3 % of the leader's CPU and 6 %
// of a follower's (which does less else). So a look is a single fstat of the
// descriptor (is it still the log, by inode; how big is the file), the
// writer's offset is estimated from the batches written since the last read
// of fdinfo (an upper bound: it can only make a read come early), and fdinfo
// is read only when that estimate says the room runs low, or once a second in
// case something wrote behind the RootWriter's back. Without /proc or
// fallocate(1), or on a filesystem without fallocate, nothing is extended and
// LevelDB works as before.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log';
import { rootWriterOf } from './batch-writer';
import type { RootDb, RootOp } from './root-writer';

/** How much is allocated at a time: more than a log holds (LevelDB starts a new one at its 4 MB write buffer). */
export const PREALLOC_CHUNK_BYTES = 8 * 1024 * 1024;
/** Extend once less than this is left ahead of the writer. */
export const PREALLOC_LOW_WATER_BYTES = 2 * 1024 * 1024;
/** At most one look at /proc per this many ms, however many writes land. */
export const PREALLOC_CHECK_MS = 20;
/** A look at /proc at least this often, whatever the estimate says. */
export const PREALLOC_MEASURE_MS = 1_000;
/** After fallocate(1) failed (disk full, say), wait this long before trying again. */
const RETRY_AFTER_FAILURE_MS = 5_000;

const LOG_NAME = /^(\d+)\.log$/;

/**
 * At most how many bytes a LevelDB batch of `ops` appends to its log: the
 * batch's encoding (a 12-byte header; per operation a tag byte, varint lengths
 * and the bytes) in records with 7-byte headers, cut at 32 KB blocks whose last
 * 6 bytes may stay unused.
 */
export function logBytesUpperBound(ops: readonly RootOp[]): number {
  let rep = 12;
  for (const op of ops) rep += op.type === 'put' ? 11 + op.key.length + op.value.length : 6 + op.key.length;
  return rep + 13 * (2 + Math.floor(rep / 32_761));
}

export interface LogPreallocStats {
  /** fallocate(1) runs that succeeded. */
  extended: number;
  failed: number;
  /** Looks at /proc for the log's offset and size. */
  measured: number;
}

export class LogPreallocator {
  readonly stats: LogPreallocStats = { extended: 0, failed: 0, measured: 0 };
  private readonly dir: string;
  private fd = -1;
  private logPath = '';
  private lastCheck = -Infinity;
  /** When /proc was last read. */
  private lastMeasure = -Infinity;
  /** The writer's offset as last read, plus at least what was written since. */
  private estPos = 0;
  /** Device and inode of the log the descriptor was found open on. */
  private dev = -1;
  private ino = -1;
  private busy = false;
  private disabled = false;

  constructor(
    dir: string,
    private readonly logger?: Logger,
    private readonly chunkBytes = PREALLOC_CHUNK_BYTES,
    private readonly lowWaterBytes = PREALLOC_LOW_WATER_BYTES,
    private readonly measureMs = PREALLOC_MEASURE_MS,
  ) {
    // The real path: fallocate(1) is given the log by path, and a symlinked
    // data directory could be repointed while the member runs.
    this.dir = fs.realpathSync(dir);
    if (process.platform !== 'linux') this.disabled = true;
  }

  /** Runs after every write the database's RootWriter makes (the one path all its writes take). */
  attach(db: object): this {
    rootWriterOf(db as RootDb).onWritten = (ops) => this.afterWrite(ops);
    return this;
  }

  /** After a LevelDB write of `ops` has landed: extends the current log if its room runs low. Cheap when not due. */
  afterWrite(ops?: readonly RootOp[]): void {
    if (this.disabled) return;
    if (ops) this.estPos += logBytesUpperBound(ops);
    if (this.busy) return;
    const now = performance.now();
    if (now - this.lastCheck < PREALLOC_CHECK_MS) return;
    this.lastCheck = now;
    this.busy = true;
    // Behind the write's own callbacks: the client whose write just landed is
    // answered first.
    setImmediate(() => {
      this.busy = false;
      if (this.disabled) return;
      try {
        this.check();
      } catch (err) {
        // /proc unreadable or laid out differently: LevelDB works without this.
        this.disable(`cannot follow LevelDB's log: ${(err as Error).message}`);
      }
    });
  }

  /** Stops extending (the database is closing). */
  close(): void {
    this.disabled = true;
  }

  /** LevelDB's current log: its path, where the writer is, and the file's size (allocated room included). */
  room(): { file: string; pos: number; size: number } | undefined {
    if (!this.trackedStat() && !this.findLog()) return undefined;
    return this.measure();
  }

  /** Reads the tracked log's offset and size from /proc and restarts the estimate from them. */
  private measure(): { file: string; pos: number; size: number } {
    const info = fs.readFileSync(`/proc/self/fdinfo/${this.fd}`, 'latin1');
    const m = /^pos:\s*(\d+)/m.exec(info);
    if (!m) throw new Error('no pos in fdinfo');
    const r = { file: this.logPath, pos: Number(m[1]), size: fs.fstatSync(this.fd).size };
    this.estPos = r.pos;
    this.lastMeasure = performance.now();
    this.stats.measured++;
    return r;
  }

  private check(): void {
    const st = this.trackedStat();
    if (!st && !this.findLog()) return;
    // Still the same log, with room to spare by the estimate: fdinfo need not be read.
    const due = performance.now() - this.lastMeasure >= this.measureMs;
    if (st && !due && st.size - this.estPos >= this.lowWaterBytes) return;
    const r = this.measure();
    if (r.size - r.pos < this.lowWaterBytes) this.extend(r.file, r.size);
  }

  /** The log's stat, if the descriptor found last time still is LevelDB's current log. */
  private trackedStat(): fs.Stats | undefined {
    if (this.fd < 0) return undefined;
    // LevelDB closes a log when it starts the next one: the number then
    // dangles or names another file.
    try {
      const st = fs.fstatSync(this.fd);
      return st.ino === this.ino && st.dev === this.dev ? st : undefined;
    } catch {
      return undefined;
    }
  }

  private newestLog(): string | undefined {
    let best = -1;
    let name: string | undefined;
    for (const f of fs.readdirSync(this.dir)) {
      const m = LOG_NAME.exec(f);
      if (m && Number(m[1]) > best) {
        best = Number(m[1]);
        name = f;
      }
    }
    return name === undefined ? undefined : path.join(this.dir, name);
  }

  /** Finds the newest log and the descriptor LevelDB writes it through (by inode). */
  private findLog(): boolean {
    const previous = this.fd;
    this.fd = -1;
    const log = this.newestLog();
    if (log === undefined) return false;
    const want = fs.statSync(log);
    const opensLog = (fd: number): boolean => {
      let st: fs.Stats;
      try {
        st = fs.fstatSync(fd);
      } catch {
        return false; // closed meanwhile (readdir's own descriptor among them)
      }
      if (st.ino !== want.ino || st.dev !== want.dev) return false;
      this.fd = fd;
      this.logPath = log;
      this.dev = st.dev;
      this.ino = st.ino;
      return true;
    };
    // open() returns the lowest free number, so the new log usually takes the
    // old one's: try it before reading every descriptor of a busy server.
    if (previous >= 0 && opensLog(previous)) return true;
    for (const entry of fs.readdirSync('/proc/self/fd')) if (opensLog(Number(entry))) return true;
    return false;
  }

  private extend(file: string, from: number): void {
    this.busy = true;
    // By path, not descriptor: a descriptor number can be reused for another
    // file (an SSTable) by the time the child opens it; a path cannot. At worst
    // the log was deleted meanwhile and fallocate creates a zero-filled file of
    // that old number, which LevelDB never replays and deletes as obsolete.
    const child = spawn('fallocate', ['-o', String(from), '-l', String(this.chunkBytes), file], { stdio: 'ignore' });
    child.once('error', (err) => {
      this.busy = false;
      this.disable(`fallocate(1) unavailable: ${err.message}`);
    });
    child.once('exit', (code) => {
      if (code === 0) {
        this.stats.extended++;
        this.busy = false;
        return;
      }
      this.stats.failed++;
      this.logger?.debug({ file, code }, 'fallocate of the LevelDB log failed; retrying later');
      // Keep `busy` through the back-off so no check runs meanwhile.
      setTimeout(() => (this.busy = false), RETRY_AFTER_FAILURE_MS).unref();
    });
  }

  private disable(why: string): void {
    if (this.disabled) return;
    this.disabled = true;
    this.logger?.info({ dir: this.dir }, `not preallocating LevelDB's log: ${why}`);
  }
}

/**
 * Extends the log of the LevelDB at `location` (opened as `db`) behind every
 * write its RootWriter makes. ETCD_TS_LOG_PREALLOC=off leaves the log as
 * LevelDB grows it, to measure what this is worth.
 */
export function attachLogPreallocator(db: object, location: string, logger?: Logger): LogPreallocator | undefined {
  if (process.env.ETCD_TS_LOG_PREALLOC === 'off') return undefined;
  return new LogPreallocator(location, logger).attach(db);
}
