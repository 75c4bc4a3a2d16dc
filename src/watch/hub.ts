// etcd's watchable store, on top of the MVCC change feed. Synced watchers get
// each applied batch as it happens; unsynced ones (started in the past, fallen
// behind a backpressured stream, or cut off by a snapshot restore) catch up
// a page at a time, from the newest revisions kept in memory (recent.ts) or
// else from history with eventsFrom, and rejoin the synced set once they reach
// the current revision. Nothing is queued per watcher: a stream that cannot
// take more simply leaves its watchers unsynced, so a slow consumer costs
// reads later, never memory of its own.
import { EtcdError, Errors } from '../errors';
import type { MvccStore } from '../mvcc/store';
import type { EventsPage } from '../mvcc/feed';
import type { ChangeBatch, Event } from '../mvcc/types';
import { RecentHistory } from './recent';
import type { Watcher } from './watcher';

export interface WatchHubOptions {
  /** Periodic progress notifications for idle synced watchers that asked (etcd: 10 min). */
  progressIntervalMs: number;
  /** Events per history page (etcd batches up to 1000 revisions per sync). */
  pageEvents?: number;
  /** Watchers caught up per round before yielding (etcd: 512 per sync pass). */
  watchersPerRound?: number;
  /** Bytes of recent events kept in memory for catching up (RECENT_BYTES). */
  recentBytes?: number;
}

export class WatchHub {
  private readonly synced = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  /** Revision of the last batch seen: a jump means a snapshot restore replaced the store. */
  private lastRev: number;
  private syncing = false;
  private again = false;
  private readonly unsubscribe: Array<() => void> = [];
  private progressTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The newest revisions' batches, while anyone watches: catching up reads them before LevelDB. */
  private readonly recent: RecentHistory;

  constructor(
    private readonly store: MvccStore,
    private readonly opts: WatchHubOptions,
  ) {
    this.lastRev = store.rev;
    this.recent = new RecentHistory(opts.recentBytes);
  }

  start(): void {
    this.unsubscribe.push(
      this.store.onChange((b) => this.onBatch(b)),
      this.store.onRestore(() => this.onRestore()),
    );
    if (this.opts.progressIntervalMs > 0) {
      this.progressTimer = setInterval(() => this.progressTick(), this.opts.progressIntervalMs);
      this.progressTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.synced.clear();
    this.unsynced.clear();
    this.recent.clear();
  }

  get size(): { synced: number; unsynced: number } {
    return { synced: this.synced.size, unsynced: this.unsynced.size };
  }

  get currentRevision(): number {
    return this.store.rev;
  }

  /** Registers a watcher whose created reply was already sent. */
  add(w: Watcher): void {
    if (this.stopped) return;
    const rev = this.store.rev;
    // etcd: start 0 or in the future -> synced (events before minRev are skipped).
    if (w.minRev === 0) w.minRev = rev + 1;
    if (w.minRev > rev) {
      this.synced.add(w);
    } else {
      this.unsynced.add(w);
      this.kick();
    }
  }

  remove(w: Watcher): void {
    this.synced.delete(w);
    this.unsynced.delete(w);
  }

  /** A stream drained its buffer: its unsynced watchers may catch up now. */
  kick(): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    if (this.unsynced.size === 0 || this.stopped) return;
    this.syncing = true;
    setImmediate(() => {
      this.syncLoop().then(
        () => undefined,
        (e: unknown) => process.emitWarning(`watch sync loop failed: ${String(e)}`),
      );
    });
  }

  private onBatch(b: ChangeBatch): void {
    if (b.revision !== this.lastRev + 1) {
      // Revisions skipped: the store was restored from a snapshot. Nobody may
      // trust the live feed to be gapless, so everyone resyncs from history.
      this.lastRev = b.revision;
      this.recent.clear();
      for (const w of this.synced) this.unsynced.add(w);
      this.synced.clear();
      this.kick();
      return;
    }
    this.lastRev = b.revision;
    if (this.synced.size === 0 && this.unsynced.size === 0) {
      this.recent.clear();
      return;
    }
    const keys = b.events.map((e) => e.kv.key.toString('latin1'));
    this.recent.push(b, keys);
    if (this.synced.size === 0) return;
    const chosen = new Map<string, Event[]>();
    let fellBehind = false;
    for (const w of this.synced) {
      if (w.minRev > b.revision) continue; // a future start revision
      let evs = chosen.get(w.groupKey);
      if (evs === undefined) {
        evs = w.select(b.events, keys);
        chosen.set(w.groupKey, evs);
      }
      if (evs.length > 0) {
        if (!w.sink.writable) {
          // Keep minRev at this revision: the events are read back from history later.
          this.synced.delete(w);
          this.unsynced.add(w);
          fellBehind = true;
          continue;
        }
        w.sink.sendEvents(w, b.revision, evs);
        w.busy = true;
      }
      w.minRev = b.revision + 1;
    }
    if (fellBehind) this.kick();
  }

  /** A snapshot replaced the store: everyone resyncs from its history (or learns it was compacted). */
  private onRestore(): void {
    this.lastRev = this.store.rev;
    this.recent.clear();
    for (const w of this.synced) this.unsynced.add(w);
    this.synced.clear();
    this.kick();
  }

  private async syncLoop(): Promise<void> {
    try {
      const perRound = this.opts.watchersPerRound ?? 512;
      for (;;) {
        this.again = false;
        const ready: Watcher[] = [];
        for (const w of this.unsynced) {
          if (w.sink.writable) ready.push(w);
          if (ready.length >= perRound) break;
        }
        if (ready.length === 0 && !this.again) return;
        for (const group of groupByHistory(ready)) await this.syncGroup(group);
        if (this.stopped) return;
      }
    } finally {
      this.syncing = false;
    }
  }

  /**
   * One history page for watchers of the same range and prev_kv option, read
   * once from the oldest of their next revisions, as etcd's syncWatchers reads
   * once for its whole unsynced group: a thousand watchers fallen behind on one
   * prefix cost one scan, and those at the same revision share one events array
   * (hence one encoding). Each watcher takes the page from its own next
   * revision; those that reach the current revision rejoin the synced set.
   */
  private async syncGroup(group: Watcher[]): Promise<void> {
    const compactRev = this.store.compactRev;
    const live: Watcher[] = [];
    for (const w of group) {
      if (!this.unsynced.has(w) || !w.sink.writable) continue;
      if (w.minRev < compactRev) this.compacted(w, compactRev);
      else live.push(w);
    }
    if (live.length === 0) return;
    const first = live[0]!;
    const fromRev = Math.min(...live.map((w) => w.minRev));
    const limit = this.opts.pageEvents ?? 1000;
    // Memory first. Above the compacted revision only: an event at exactly that
    // revision lost its previous version, which history leaves out of prev_kv.
    let page = fromRev > compactRev ? this.recent.page(fromRev, (k) => first.matches(k), limit) : undefined;
    if (page === undefined) page = await this.readHistory(live, fromRev, first, limit);
    if (page === undefined) return;
    const shared = new Map<string, Event[]>();
    for (const w of live) {
      // Cancelled while reading, or its stream filled up since: it waits for the next round.
      if (!this.unsynced.has(w) || !w.sink.writable) continue;
      if (w.minRev >= page.nextRev) {
        // Ahead of this page (the group's oldest catches up first), or already current.
        this.promoteIfCurrent(w);
        continue;
      }
      const from = firstAtOrAfter(page.events, w.minRev);
      const cacheKey = `${from}|${w.groupKey}`;
      let evs = shared.get(cacheKey);
      if (evs === undefined) {
        evs = w.filter(from === 0 ? page.events : page.events.slice(from));
        shared.set(cacheKey, evs);
      }
      if (evs.length > 0) {
        w.sink.sendEvents(w, page.nextRev - 1, evs);
        w.busy = true;
      }
      w.minRev = page.nextRev;
      this.promoteIfCurrent(w);
    }
  }

  /** A page from the store's history; undefined if it was compacted meanwhile (those watchers are told). */
  private async readHistory(live: Watcher[], fromRev: number, first: Watcher, limit: number): Promise<EventsPage | undefined> {
    try {
      return await this.store.eventsFrom(fromRev, first.spec.key, first.historyRangeEnd, { limit, prevKv: first.spec.prevKv });
    } catch (e) {
      if (e instanceof EtcdError && e.message === Errors.Compacted.message) {
        for (const w of live) if (this.unsynced.has(w)) this.compacted(w, this.store.compactRev);
        return undefined;
      }
      throw e;
    }
  }

  /** Synchronous: no batch can slip in between the check and the move. */
  private promoteIfCurrent(w: Watcher): void {
    if (w.minRev <= this.store.rev) {
      this.again = true;
      return;
    }
    if (this.lastRev !== this.store.rev) {
      // A restore happened with no batch since: the synced set may hold a gap.
      this.lastRev = this.store.rev;
      for (const s of this.synced) this.unsynced.add(s);
      this.synced.clear();
      this.again = true;
    }
    this.unsynced.delete(w);
    this.synced.add(w);
  }

  private compacted(w: Watcher, compactRev: number): void {
    this.remove(w);
    w.sink.sendCompacted(w, compactRev);
  }

  private progressTick(): void {
    const rev = this.store.rev;
    for (const w of this.synced) {
      if (!w.spec.progressNotify) continue;
      // Only idle watchers are told, as etcd's per-watcher progress flag does.
      if (!w.busy && w.sink.writable && w.minRev <= rev + 1) w.sink.sendProgress(w, rev);
      w.busy = false;
    }
  }
}

/** Watchers whose history reads are the same scan: same range, same prev_kv option. */
function groupByHistory(watchers: Watcher[]): Watcher[][] {
  const groups = new Map<string, Watcher[]>();
  for (const w of watchers) {
    const k = w.historyKey;
    const g = groups.get(k);
    if (g) g.push(w);
    else groups.set(k, [w]);
  }
  return [...groups.values()];
}

/** Index of the first event at or after rev (events are in revision order). */
function firstAtOrAfter(events: Event[], rev: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.kv.modRevision < rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
