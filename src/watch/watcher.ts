// One watcher: a key range, a next revision to deliver (minRev) and the
// filters of its create request. Selecting a batch's events for a watcher is
// the only work done per watcher on the apply path, so watchers with the same
// range and options share one selection per batch (see groupKey).
import type { Event } from '../mvcc/types';

export interface WatchSpec {
  key: Buffer;
  /** undefined = the single key; empty = every key >= key; otherwise [key, rangeEnd). */
  rangeEnd: Buffer | undefined;
  /** 0 = from the next revision. */
  startRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
  progressNotify: boolean;
  fragment: boolean;
}

/** What the hub needs from the stream a watcher belongs to. */
export interface WatchSink {
  /** False while the transport is backpressured: events wait in history, not in memory. */
  readonly writable: boolean;
  sendEvents(w: Watcher, revision: number, events: Event[]): void;
  sendCompacted(w: Watcher, compactRevision: number): void;
  sendProgress(w: Watcher, revision: number): void;
}

export class Watcher {
  /** First revision not yet delivered (or skipped as not matching). */
  minRev: number;
  readonly start: string;
  readonly end: string | undefined;
  readonly single: boolean;
  /** Watchers with equal groupKey select exactly the same events from a batch. */
  readonly groupKey: string;
  /** Watchers with equal historyKey read the same history (range and prev_kv; filters apply after). */
  readonly historyKey: string;
  /** The range as eventsFrom takes it ("\0" for every key from start). */
  readonly historyRangeEnd: Buffer | undefined;
  /** Events were sent since the last progress tick (progress notifications are for idle watchers). */
  busy = false;

  constructor(
    readonly id: number,
    readonly sink: WatchSink,
    readonly spec: WatchSpec,
  ) {
    this.minRev = spec.startRevision;
    this.start = spec.key.toString('latin1');
    this.single = spec.rangeEnd === undefined;
    this.end = spec.rangeEnd === undefined || spec.rangeEnd.length === 0 ? undefined : spec.rangeEnd.toString('latin1');
    this.historyRangeEnd = spec.rangeEnd !== undefined && spec.rangeEnd.length === 0 ? Buffer.from([0]) : spec.rangeEnd;
    const rangeKey = `${this.single ? 's' : 'r'}|${this.start}|${this.end ?? ''}`;
    const f = (spec.prevKv ? 1 : 0) | (spec.noPut ? 2 : 0) | (spec.noDelete ? 4 : 0);
    this.groupKey = `${f}|${rangeKey}`;
    this.historyKey = `${spec.prevKv ? 1 : 0}|${rangeKey}`;
  }

  matches(key: string): boolean {
    if (this.single) return key === this.start;
    return key >= this.start && (this.end === undefined || key < this.end);
  }

  /** The batch's events this watcher wants; keys[i] is events[i]'s key as latin1. */
  select(events: Event[], keys: string[]): Event[] {
    const out: Event[] = [];
    for (let i = 0; i < events.length; i++) {
      if (!this.matches(keys[i]!)) continue;
      const ev = this.pass(events[i]!);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** Applies the filters and the prev_kv option to events already within the range (history). */
  filter(events: Event[]): Event[] {
    // Nothing to drop or strip: the same array, so watchers sharing it share its encoding.
    if (!this.spec.noPut && !this.spec.noDelete && (this.spec.prevKv || !events.some((e) => e.prevKv))) return events;
    const out: Event[] = [];
    for (const e of events) {
      const ev = this.pass(e);
      if (ev) out.push(ev);
    }
    return out;
  }

  private pass(e: Event): Event | undefined {
    if (e.type === 'PUT' ? this.spec.noPut : this.spec.noDelete) return undefined;
    if (!this.spec.prevKv && e.prevKv) return { type: e.type, kv: e.kv };
    return e;
  }
}
