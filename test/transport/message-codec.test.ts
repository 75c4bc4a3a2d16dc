// The binary layout of Raft message batches (src/transport/message-codec.ts):
// every field of every kind of message comes back, and a damaged batch is
// refused (the stream is then closed) rather than half-read.
import { describe, expect, it } from 'vitest';
import { decodeMessageBatch, decodeMessageHead, encodeMessageBatch, encodeMessageHead } from '../../src/transport/message-codec';
import { decodeSnapHead, encodeSnapHead } from '../../src/transport/codec';
import { EntryType, MessageType, type Message } from '../../src/raft/types';

const base = (over: Partial<Message>): Message => ({
  type: MessageType.App, to: '8211f1d0f64f3269', from: '91bc3c398fb3c146', term: 7, logTerm: 6, index: 41,
  entries: [], commit: 40, reject: false, rejectHint: 0, context: new Uint8Array(0), ...over,
});

const messages: Message[] = [
  base({
    entries: [
      { term: 7, index: 42, type: EntryType.Normal, data: Buffer.from('put k v') },
      { term: 7, index: 43, type: EntryType.ConfChange, data: Buffer.from([0, 1, 2, 255]) },
      { term: 7, index: 2 ** 53 - 1, type: EntryType.Normal, data: new Uint8Array(0) },
    ],
  }),
  base({ type: MessageType.AppResp, reject: true, rejectHint: 39, index: 2 ** 40 }),
  base({ type: MessageType.Heartbeat, context: Buffer.from('read-ctx'), to: 'é-ünïcode', from: '' }),
  base({
    type: MessageType.Snap,
    snapshot: {
      metadata: { index: 5000, term: 6, confState: { voters: ['a', 'b'], learners: ['c'], votersOutgoing: [], learnersNext: ['d', 'e'], autoLeave: true } },
      data: Buffer.alloc(1000, 9),
    },
  }),
];

/** A message as plain values, for deep equality (Buffers and Uint8Arrays compare by content). */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('message batches', () => {
  it('round-trip every field', () => {
    const back = decodeMessageBatch(encodeMessageBatch(messages));
    expect(back.map(plain)).toEqual(messages.map(plain));
    expect(decodeMessageBatch(encodeMessageBatch([]))).toEqual([]);
  });

  it('take the entries as views of the payload, not copies', () => {
    const payload = encodeMessageBatch(messages.slice(0, 1));
    const [m] = decodeMessageBatch(payload);
    expect((m!.entries[0]!.data as Buffer).buffer).toBe(payload.buffer);
  });

  it('refuse a batch cut anywhere, or with bytes left over', () => {
    const payload = encodeMessageBatch(messages);
    for (let n = 0; n < payload.length; n++) expect(() => decodeMessageBatch(payload.subarray(0, n)), `cut at ${n}`).toThrow(RangeError);
    expect(() => decodeMessageBatch(Buffer.concat([payload, Buffer.from([0])]))).toThrow(RangeError);
  });

  it('refuse absurd counts before allocating for them', () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(0xffffffff, 0);
    expect(() => decodeMessageBatch(huge)).toThrow(RangeError);
    const one = encodeMessageBatch([base({})]);
    // The entry count sits right before the (empty) entries at the end of the message.
    one.writeUInt32LE(0x7fffffff, one.length - 4);
    expect(() => decodeMessageBatch(one)).toThrow(RangeError);
  });
});

describe('snapshot heads', () => {
  it('carry the message without its data, and the data size', () => {
    const snap = messages[3]!;
    const head = decodeMessageHead(encodeMessageHead(snap));
    expect(head.snapshot!.data.length).toBe(0);
    expect(head.snapshot!.metadata).toEqual(snap.snapshot!.metadata);
    const { message, size } = decodeSnapHead(encodeSnapHead(snap, 1000));
    expect(size).toBe(1000);
    expect(message.snapshot!.metadata.confState.learnersNext).toEqual(['d', 'e']);
    expect(() => decodeSnapHead(encodeSnapHead(base({}), 0))).toThrow('snapshot head without snapshot');
  });
});
