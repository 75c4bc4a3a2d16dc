// The newest revisions' events, kept by the watch hub while anyone watches, so
// a watcher that fell behind a backpressured stream catches up from memory
// instead of from a LevelDB scan it would decode again. The batches are the
// live feed's own arrays (the same events synced watchers got), in revision
// order with no gaps; older revisions fall off at a byte budget and history
// reads take over.
import type { ChangeBatch, Event } from '../mvcc/types';
import type { EventsPage } from '../mvcc/feed';
import { eventBytes } from './stream';

/** Event bytes kept (as stream.ts estimates them): enough for a burst, small next to a member's RSS. */
export const RECENT_BYTES = 8 * 1024 * 1024;

interface Held extends ChangeBatch {
  /** events[i].kv.key as latin1, as watchers match keys. */
  keys: string[];
}

export class RecentHistory {
  private batches: Held[] = [];
  /** Index of the oldest live batch in `batches` (dropped ones are spliced out lazily). */
  private head = 0;
  private bytes = 0;

  constructor(private readonly budget = RECENT_BYTES) {}

  /** Appends the next revision's batch (keys: its events' keys as latin1); a gap (a restore) starts over. */
  push(b: ChangeBatch, keys: string[]): void {
    const last = this.batches[this.batches.length - 1];
    if (last !== undefined && b.revision !== last.revision + 1) this.clear();
    this.batches.push({ revision: b.revision, events: b.events, keys });
    for (const e of b.events) this.bytes += eventBytes(e);
    while (this.bytes > this.budget && this.head < this.batches.length - 1) {
      for (const e of this.batches[this.head]!.events) this.bytes -= eventBytes(e);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.batches = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** Oldest revision held, or Infinity when empty. */
  get oldest(): number {
    return this.head < this.batches.length ? this.batches[this.head]!.revision : Infinity;
  }

  /**
   * Events from fromRev on whose key `matches`, as eventsFrom pages them: whole
   * revisions, stopping at the first revision after `limit` events. Undefined
   * when fromRev is older than what is held (read history instead).
   */
  page(fromRev: number, matches: (key: string) => boolean, limit: number): EventsPage | undefined {
    const first = this.oldest;
    if (fromRev < first) return undefined;
    const events: Event[] = [];
    const lastIdx = this.batches.length - 1;
    for (let i = this.head + (fromRev - first); i <= lastIdx; i++) {
      const b = this.batches[i]!;
      if (events.length >= limit) return { events, nextRev: b.revision };
      for (let j = 0; j < b.events.length; j++) if (matches(b.keys[j]!)) events.push(b.events[j]!);
    }
    const top = lastIdx >= this.head ? this.batches[lastIdx]!.revision : fromRev - 1;
    return { events, nextRev: Math.max(fromRev, top + 1) };
  }
}
