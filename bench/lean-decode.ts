// Lean readers of the two answers whose decoding, not the server, set the
// generator's pace: they take from the wire bytes only what the load checks
// and build nothing else.
//
// - WatchResponse: whether it confirms a watcher's creation, and each event's
//   mod_revision. grpc-js's proto-loader deserializer built a full object per
//   event (key and value Buffers, int64s as decimal strings): 2,000,000 of them
//   per run in the generator's one thread. Events reached watchers 2.4-2.5 s
//   after their put was acknowledged, against either server.
// - RangeResponse: how many kvs it holds and its count field. A 1,000-key
//   answer (~270 KB) cost the generator ~3.5-4 ms of CPU to decode into
//   objects, against ~1.5 ms (etcd-ts) and ~2.8 ms (etcd) for the server to
//   produce it, so both systems ran at the generator's speed.
//
// Field numbers from rpc.proto / kv.proto: WatchResponse.created = 3,
// WatchResponse.events = 11; Event.kv = 2; KeyValue.mod_revision = 3;
// RangeResponse.kvs = 2, RangeResponse.count = 4.

export interface WatchSummary {
  created: boolean;
  /** One per event, in order: the event's kv.mod_revision. */
  modRevisions: number[];
}

/** Wire types of protobuf's encoding. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

class Cursor {
  constructor(
    readonly b: Uint8Array,
    public at: number,
  ) {}

  /** A varint as a JS number (exact below 2^53, which every revision is). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.b.length) throw new Error('lean decode: truncated varint');
      const byte = this.b[this.at++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new Error('lean decode: varint longer than 10 bytes');
  }

  /** A length prefix whose bytes are all there. */
  lengthPrefix(what: string): number {
    const len = this.varint();
    if (this.at + len > this.b.length) throw new Error(`lean decode: truncated ${what}`);
    return len;
  }

  /** Steps over one field's value of wire type `wt`. */
  skip(wt: number): void {
    if (wt === VARINT) this.varint();
    else if (wt === FIXED64) this.at += 8;
    else if (wt === LEN) {
      const len = this.varint(); // read first: `at += varint()` would add to the old `at`
      this.at += len;
    } else if (wt === FIXED32) this.at += 4;
    else throw new Error(`lean decode: unsupported wire type ${wt}`);
    if (this.at > this.b.length) throw new Error('lean decode: truncated field');
  }
}

/**
 * Walks the fields of the message in b[start, end), handing each one's number
 * and wire type to `field`, which must read or skip its value.
 */
function eachField(b: Uint8Array, start: number, end: number, field: (c: Cursor, no: number, wt: number) => void): void {
  const c = new Cursor(b, start);
  while (c.at < end) {
    const tag = c.varint();
    field(c, Math.floor(tag / 8), tag & 7);
  }
  if (c.at > end) throw new Error('lean decode: field runs past its message');
}

/** Reads a length-delimited field's bytes with `inner(start, end)` and steps past them. */
function nested<T>(c: Cursor, what: string, inner: (start: number, end: number) => T): T {
  const len = c.lengthPrefix(what); // read first: `c.at + len` needs the advanced `at`
  const start = c.at;
  c.at = start + len;
  return inner(start, start + len);
}

/** mod_revision of the KeyValue in b[start, end) (0 when absent, as protobuf's default). */
function modRevisionOf(b: Uint8Array, start: number, end: number): number {
  let rev = 0;
  eachField(b, start, end, (c, no, wt) => {
    if (no === 3 && wt === VARINT) rev = c.varint();
    else c.skip(wt);
  });
  return rev;
}

/** The event's kv.mod_revision, for the Event in b[start, end). */
function eventModRevision(b: Uint8Array, start: number, end: number): number {
  let rev = 0;
  eachField(b, start, end, (c, no, wt) => {
    if (no === 2 && wt === LEN) rev = nested(c, 'kv', (s, e) => modRevisionOf(b, s, e));
    else c.skip(wt);
  });
  return rev;
}

export function decodeWatchSummary(b: Uint8Array): WatchSummary {
  let created = false;
  const modRevisions: number[] = [];
  eachField(b, 0, b.length, (c, no, wt) => {
    if (no === 3 && wt === VARINT) created = c.varint() !== 0;
    else if (no === 11 && wt === LEN) modRevisions.push(nested(c, 'event', (s, e) => eventModRevision(b, s, e)));
    else c.skip(wt);
  });
  return { created, modRevisions };
}

export interface RangeSummary {
  /** KeyValues in the answer. */
  kvs: number;
  /** The answer's count field: keys in the range (all of them, whatever the limit). */
  count: number;
}

export function decodeRangeSummary(b: Uint8Array): RangeSummary {
  let kvs = 0;
  let count = 0;
  eachField(b, 0, b.length, (c, no, wt) => {
    if (no === 2 && wt === LEN) kvs += nested(c, 'kv', () => 1);
    else if (no === 4 && wt === VARINT) count = c.varint();
    else c.skip(wt);
  });
  return { kvs, count };
}
