// The hand-written WatchResponse encoder against protobufjs: random replies
// decode exactly as protobufjs's encoding of the same reply does, and zero
// scalars stay off the wire as etcd's Go encoder leaves them.
import { describe, expect, it } from 'vitest';
import { kvToPb } from '../../src/api/convert';
import { encodeWatchEvents, encodeWatchHead } from '../../src/api/encode-watch';
import { toHeader } from '../../src/api/header';
import type { Event } from '../../src/mvcc/types';
import type { WatchReply } from '../../src/watch/stream';
import { header, randomKv, rng, toObj, type } from './pb-fixtures';

const W = type('WatchResponse');

function randomEvent(r: () => number): Event {
  const e: Event = { type: r() < 0.3 ? 'DELETE' : 'PUT', kv: randomKv(r) };
  if (r() < 0.3) e.prevKv = randomKv(r);
  return e;
}

function randomReply(r: () => number): WatchReply {
  const reply: WatchReply = {
    watchId: r() < 0.2 ? -1 : r() < 0.3 ? 0 : Math.floor(r() * 2 ** 40),
    revision: r() < 0.1 ? 0 : Math.floor(r() * 2 ** 33),
    events: Array.from({ length: r() < 0.3 ? 0 : Math.floor(r() * 6) }, () => randomEvent(r)),
  };
  if (r() < 0.3) reply.created = true;
  if (r() < 0.3) reply.canceled = true;
  if (r() < 0.2) reply.compactRevision = Math.floor(r() * 2 ** 35);
  if (r() < 0.2) reply.cancelReason = r() < 0.5 ? 'mvcc: watcher range is empty' : 'é ✓ non-latin1';
  if (r() < 0.2) reply.fragment = true;
  return reply;
}

/** The reply as protobufjs encodes it from plain objects (the route the encoder replaced). */
function reference(reply: WatchReply, h: ReturnType<typeof header>): Uint8Array {
  const obj = {
    header: toHeader(h, reply.revision),
    watch_id: reply.watchId,
    created: !!reply.created,
    canceled: !!reply.canceled,
    compact_revision: reply.compactRevision ?? 0,
    cancel_reason: reply.cancelReason ?? '',
    fragment: !!reply.fragment,
    events: reply.events.map((e) => ({ type: e.type, kv: kvToPb(e.kv), ...(e.prevKv ? { prev_kv: kvToPb(e.prevKv) } : {}) })),
  };
  return W.encode(W.fromObject(obj)).finish();
}

function ours(reply: WatchReply, h: ReturnType<typeof header>): Buffer {
  return Buffer.concat([encodeWatchHead(reply, { ...h, revision: reply.revision }), encodeWatchEvents(reply.events)]);
}

describe('hand-written WatchResponse encoder', () => {
  it('decodes as protobufjs encodings of the same replies do (600 random replies)', () => {
    const r = rng(20261123);
    for (let i = 0; i < 600; i++) {
      const h = header(r);
      const reply = randomReply(r);
      expect(toObj(W, ours(reply, h))).toEqual(toObj(W, reference(reply, h)));
    }
  });

  it('leaves zero scalars out: a PUT has no type, lease 0 and watch_id 0 are absent, -1 takes ten bytes', () => {
    const kv = { key: Buffer.from('k'), value: Buffer.from('v'), createRevision: 2, modRevision: 2, version: 1, lease: 0n };
    // field 11, length 14; kv (field 2), length 12: key (3 bytes), create, mod, version (2 each), value (3 bytes)
    expect([...encodeWatchEvents([{ type: 'PUT', kv }])]).toEqual([0x5a, 14, 0x12, 12, 0x0a, 1, 0x6b, 0x10, 2, 0x18, 2, 0x20, 1, 0x2a, 1, 0x76]);
    const del = encodeWatchEvents([{ type: 'DELETE', kv: { ...kv, value: Buffer.alloc(0), createRevision: 0, version: 0, modRevision: 3 } }]);
    expect([...del]).toEqual([0x5a, 9, 0x08, 1, 0x12, 5, 0x0a, 1, 0x6b, 0x18, 3]);
    const h = { clusterId: '1', memberId: '2', revision: 0, raftTerm: 0 };
    // header (field 1, length 4: cluster_id 1, member_id 2), nothing else
    expect([...encodeWatchHead({ watchId: 0, revision: 0, events: [] }, h)]).toEqual([0x0a, 4, 0x08, 1, 0x10, 2]);
    const minusOne = encodeWatchHead({ watchId: -1, revision: 0, events: [] }, h);
    expect([...minusOne.subarray(6)]).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });
});
