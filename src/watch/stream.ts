// One client Watch stream: the watch ids it owns (auto ids count from 0 and
// take the next free one; a client may choose its own), create / cancel /
// progress requests with etcd 3.4's exact replies, and the stream's output,
// whose backpressure it reports to the hub as `writable`.
import type { Event } from '../mvcc/types';
import type { WatchHub } from './hub';
import { Watcher, type WatchSink, type WatchSpec } from './watcher';

/** What goes out on the stream; the API layer turns it into a WatchResponse. */
export interface WatchReply {
  watchId: number;
  /** The header revision. */
  revision: number;
  created?: boolean;
  canceled?: boolean;
  compactRevision?: number;
  cancelReason?: string;
  fragment?: boolean;
  events: Event[];
}

export interface WatchOutput {
  /** Writes one reply; false means the transport's buffer is full until drained. */
  write(reply: WatchReply): boolean;
}

/** mvcc's error texts, sent as cancel_reason. */
export const ErrDuplicateWatchId = 'mvcc: duplicate watch ID provided on the WatchStream';
export const ErrEmptyWatcherRange = 'mvcc: watcher range is empty';

const NO_EVENTS: Event[] = [];
/** Replies of several revisions are split at revision boundaries above this size. */
const SOFT_REPLY_BYTES = 1 << 20;

export class WatchStream implements WatchSink {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private closed = false;
  writable = true;

  constructor(
    private readonly hub: WatchHub,
    private readonly out: WatchOutput,
    /** Responses of a fragment-enabled watcher are split above this many bytes. */
    private readonly maxResponseBytes: number,
  ) {}

  /** A create request answered as created and canceled at once, with etcd's reason, and no watcher. */
  refuse(reason: string): void {
    this.write({ watchId: -1, revision: this.hub.currentRevision, created: true, canceled: true, cancelReason: reason, events: NO_EVENTS });
  }

  create(spec: WatchSpec, requestedId: number): void {
    const rev = this.hub.currentRevision;
    const refuse = (reason: string) => this.refuse(reason);
    // A non-empty range end at or below the key selects nothing: etcd refuses the watcher.
    if (spec.rangeEnd && spec.rangeEnd.length > 0 && Buffer.compare(spec.key, spec.rangeEnd) >= 0) {
      return refuse(ErrEmptyWatcherRange);
    }
    let id = requestedId;
    if (id === 0) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id)) {
      return refuse(ErrDuplicateWatchId);
    }
    const w = new Watcher(id, this, spec);
    this.watchers.set(id, w);
    // The created reply goes out before anything the hub may send for this watcher.
    this.write({ watchId: id, revision: rev, created: true, events: NO_EVENTS });
    this.hub.add(w);
  }

  /** Unknown ids get no reply, as etcd 3.4. */
  cancel(id: number): void {
    const w = this.watchers.get(id);
    if (!w) return;
    this.watchers.delete(id);
    this.hub.remove(w);
    this.write({ watchId: id, revision: this.hub.currentRevision, canceled: true, events: NO_EVENTS });
  }

  /** etcd 3.4.23: answered at once with the current revision, for no watcher in particular. */
  progress(): void {
    this.write({ watchId: -1, revision: this.hub.currentRevision, events: NO_EVENTS });
  }

  /** The transport drained: watchers left behind meanwhile catch up from history. */
  drained(): void {
    this.writable = true;
    this.hub.kick();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers.values()) this.hub.remove(w);
    this.watchers.clear();
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  // ---- WatchSink ----------------------------------------------------------

  sendEvents(w: Watcher, revision: number, events: Event[]): void {
    if (!w.spec.fragment) {
      // History pages may span many revisions: keep replies near SOFT_REPLY_BYTES
      // (clients' default receive limit is 4 MiB) without splitting a revision.
      for (const part of splitByRevision(events, SOFT_REPLY_BYTES)) this.write({ watchId: w.id, revision, events: part });
      return;
    }
    const parts = splitBySize(events, this.maxResponseBytes);
    parts.forEach((part, i) =>
      this.write({ watchId: w.id, revision, events: part, fragment: i < parts.length - 1 }),
    );
  }

  sendCompacted(w: Watcher, compactRevision: number): void {
    this.watchers.delete(w.id);
    // 3.4: canceled with the compact revision, no reason, and header revision 0
    // (etcd's compaction response carries no revision of its own).
    this.write({ watchId: w.id, revision: 0, canceled: true, compactRevision, events: NO_EVENTS });
  }

  sendProgress(w: Watcher, revision: number): void {
    this.write({ watchId: w.id, revision, events: NO_EVENTS });
  }

  private write(reply: WatchReply): void {
    if (this.closed) return;
    if (!this.out.write(reply)) this.writable = false;
  }
}

/** Estimated bytes an event takes (on the wire, and held in memory): the budgets of replies and of recent history. */
export function eventBytes(e: Event): number {
  let n = e.kv.key.length + e.kv.value.length + 40;
  if (e.prevKv) n += e.prevKv.key.length + e.prevKv.value.length + 40;
  return n;
}

/** Splits events into runs of whole revisions of about maxBytes (one revision is never split). */
export function splitByRevision(events: Event[], maxBytes: number): Event[][] {
  if (events.length < 2 || events[0]!.kv.modRevision === events[events.length - 1]!.kv.modRevision) return [events];
  // Most pages fit whole: hand back the same array, so watchers sharing it share its encoding.
  let total = 0;
  for (let i = 0; i < events.length && total < maxBytes; i++) total += eventBytes(events[i]!);
  if (total < maxBytes) return [events];
  const parts: Event[][] = [];
  let cur: Event[] = [];
  let size = 0;
  for (const e of events) {
    if (size >= maxBytes && cur.length > 0 && e.kv.modRevision !== cur[cur.length - 1]!.kv.modRevision) {
      parts.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += eventBytes(e);
  }
  parts.push(cur);
  return parts;
}

/** Splits events into runs of at most maxBytes (a single bigger event travels alone). */
export function splitBySize(events: Event[], maxBytes: number): Event[][] {
  const parts: Event[][] = [];
  let cur: Event[] = [];
  let size = 0;
  for (const e of events) {
    const n = eventBytes(e);
    if (cur.length > 0 && size + n > maxBytes) {
      parts.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length > 0 || parts.length === 0) parts.push(cur);
  return parts;
}
