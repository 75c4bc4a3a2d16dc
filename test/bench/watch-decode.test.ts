// The watch load's lean reader against protobufjs: for random WatchResponses,
// as etcd or etcd-ts may encode them (any field order protobufjs writes,
// prev_kv, cancel reasons, big revisions), it finds the same created flag and
// the same mod_revision per event, in order; broken bytes are an error, not a
// wrong count.
import { describe, expect, it } from 'vitest';
import { decodeWatchSummary } from '../../bench/watch-decode';
import { kvToPb } from '../../src/api/convert';
import { toHeader } from '../../src/api/header';
import { header, randomKv, rng, type } from '../wire/pb-fixtures';

const W = type('WatchResponse');

function randomResponse(r: () => number): { bytes: Uint8Array; created: boolean; revs: number[] } {
  const created = r() < 0.3;
  const events = Array.from({ length: r() < 0.2 ? 0 : Math.floor(r() * 40) }, () => {
    const kv = randomKv(r);
    if (r() < 0.2) kv.modRevision = 2 ** 40 + Math.floor(r() * 2 ** 20); // varints past 32 bits
    const prev = r() < 0.3 ? randomKv(r) : undefined;
    return { type: r() < 0.3 ? 'DELETE' : 'PUT', kv: kvToPb(kv), ...(prev ? { prev_kv: kvToPb(prev) } : {}) };
  });
  const obj = {
    header: toHeader(header(r), Math.floor(r() * 2 ** 33)),
    watch_id: r() < 0.2 ? -1 : Math.floor(r() * 1000),
    created,
    canceled: r() < 0.1,
    compact_revision: r() < 0.1 ? Math.floor(r() * 2 ** 35) : 0,
    cancel_reason: r() < 0.1 ? 'mvcc: required revision has been compacted' : '',
    fragment: r() < 0.1,
    events,
  };
  const bytes = W.encode(W.fromObject(obj)).finish();
  return { bytes, created, revs: events.map((e) => Number(e.kv.mod_revision)) };
}

describe('lean WatchResponse reader (bench/watch-decode.ts)', () => {
  it('finds what protobufjs finds in 500 random responses', () => {
    const r = rng(20261124);
    for (let i = 0; i < 500; i++) {
      const { bytes, created, revs } = randomResponse(r);
      const decoded = W.toObject(W.decode(bytes), { longs: Number, defaults: true }) as { created: boolean; events: Array<{ kv: { mod_revision: number } }> };
      expect(decoded.events.map((e) => e.kv.mod_revision)).toEqual(revs); // the fixture itself is right
      expect(decodeWatchSummary(bytes)).toEqual({ created: decoded.created, modRevisions: revs });
      expect(created).toBe(decoded.created);
    }
  });

  it('throws on a cut response instead of miscounting its events', () => {
    const r = rng(7);
    let cut = 0;
    for (let i = 0; i < 200; i++) {
      const { bytes, revs } = randomResponse(r);
      if (revs.length === 0) continue;
      // Cut inside the last event: its length prefix promises more than is there.
      expect(() => decodeWatchSummary(bytes.subarray(0, bytes.length - 1))).toThrow(/watch response/);
      cut++;
    }
    expect(cut).toBeGreaterThan(100);
  });
});
