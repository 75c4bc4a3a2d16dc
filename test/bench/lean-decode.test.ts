// The generator's lean readers against protobufjs. For random WatchResponses
// (prev_kv, cancel reasons, big revisions) the watch reader finds the same
// created flag and the same mod_revision per event, in order. For random
// RangeResponses the range reader finds the same number of kvs and the same
// count. Broken bytes are an error, not a wrong count.
import { describe, expect, it } from 'vitest';
import { decodeRangeSummary, decodeWatchSummary } from '../../bench/lean-decode';
import { kvToPb } from '../../src/api/convert';
import { toHeader } from '../../src/api/header';
import { header, randomKv, rng, type } from '../wire/pb-fixtures';

const W = type('WatchResponse');
const R = type('RangeResponse');

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

describe('lean WatchResponse reader (bench/lean-decode.ts)', () => {
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
      expect(() => decodeWatchSummary(bytes.subarray(0, bytes.length - 1))).toThrow(/lean decode/);
      cut++;
    }
    expect(cut).toBeGreaterThan(100);
  });
});

describe('lean RangeResponse reader (bench/lean-decode.ts)', () => {
  it('finds what protobufjs finds in 300 random responses', () => {
    const r = rng(1000);
    for (let i = 0; i < 300; i++) {
      const kvs = Array.from({ length: r() < 0.1 ? 0 : Math.floor(r() * 60) }, () => kvToPb(randomKv(r)));
      const count = r() < 0.5 ? kvs.length : Math.floor(r() * 2 ** 40);
      const bytes = R.encode(R.fromObject({ header: toHeader(header(r), Math.floor(r() * 2 ** 33)), kvs, more: r() < 0.3, count })).finish();
      const decoded = R.toObject(R.decode(bytes), { longs: Number, defaults: true }) as { kvs: unknown[]; count: number };
      expect(decodeRangeSummary(bytes)).toEqual({ kvs: decoded.kvs.length, count: decoded.count });
      expect(decoded.kvs.length).toBe(kvs.length);
    }
  });

  it('throws on a cut response', () => {
    const kvs = [randomKv(rng(3)), randomKv(rng(4))].map(kvToPb);
    const bytes = R.encode(R.fromObject({ kvs, count: 2 })).finish();
    // protobufjs writes kvs before count: cut inside the second kv.
    const cutAt = bytes.length - 3 - 1;
    expect(() => decodeRangeSummary(bytes.subarray(0, cutAt))).toThrow(/lean decode/);
  });
});
