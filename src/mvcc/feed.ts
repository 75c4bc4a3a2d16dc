// Past events for the Watch service: the backend records are in revision
// order, so history from a revision is a scan decoded into events. Live
// events come from the store's listeners instead (no disk involved).

import { Errors } from '../errors';
import type { Backend } from './backend';
import { decodeRecord } from './codec';
import type { KeyIndex } from './key-index';
import { kvAt, toKeyRange } from './reader';
import type { Event, KeyValue } from './types';

export interface FeedSource {
  index: KeyIndex;
  backend: Backend;
  rev: number;
  compactRev: number;
}

export interface EventsFromOptions {
  /** Stop after the revision in which this many events were collected (whole revisions only). */
  limit?: number;
  /** Attach each event's previous version when it is still readable. */
  prevKv?: boolean;
}

export interface EventsPage {
  events: Event[];
  /** First revision not covered: pass it back to continue. */
  nextRev: number;
}

const EMPTY = Buffer.alloc(0);

export async function eventsFrom(
  s: FeedSource,
  startRev: number,
  key: Buffer,
  rangeEnd: Buffer | undefined,
  opts: EventsFromOptions = {},
): Promise<EventsPage> {
  // Watching from exactly the compacted revision is allowed (etcd's watcher group).
  if (startRev < s.compactRev) throw Errors.Compacted;
  const toRev = s.rev;
  const kr = toKeyRange(key, rangeEnd);
  const events: Event[] = [];
  if (!kr || startRev > toRev) return { events, nextRev: Math.max(startRev, toRev + 1) };
  const limit = opts.limit ?? 0;
  const view = { index: s.index, backend: s.backend, rev: toRev, compactRev: s.compactRev };
  let lastRev = 0;
  for await (const r of s.backend.scan(startRev, toRev)) {
    if (limit > 0 && events.length >= limit && r.main !== lastRev) return { events, nextRev: r.main };
    lastRev = r.main;
    const rec = decodeRecord(r.raw);
    const k = rec.key.toString('latin1');
    if (k < kr.start || (kr.end !== undefined && k >= kr.end)) continue;
    const kv: KeyValue = rec.tombstone
      ? { key: rec.key, createRevision: 0, modRevision: r.main, version: 0, value: EMPTY, lease: 0n }
      : {
          key: rec.key,
          createRevision: rec.createRevision,
          modRevision: r.main,
          version: rec.version,
          value: rec.value,
          lease: rec.lease,
        };
    const ev: Event = { type: rec.tombstone ? 'DELETE' : 'PUT', kv };
    if (opts.prevKv) {
      const e = s.index.get(k);
      // The previous version is readable only if it survived compaction.
      if (e && r.main - 1 >= s.compactRev) {
        try {
          const prev = kvAt(view, e, r.main - 1);
          if (prev) ev.prevKv = prev;
        } catch {
          // compacted away meanwhile: omitted, as etcd does
        }
      }
    }
    events.push(ev);
  }
  return { events, nextRev: toRev + 1 };
}
