// What the watch load reads from each WatchResponse: whether it confirms a
// watcher's creation, and each event's mod_revision. The load used grpc-js's
// proto-loader deserializer, which builds a full object per event (key and
// value Buffers, int64s as decimal strings): 2,000,000 of them per run in the
// generator's one thread. That thread, not the server, set the pace (events
// reached watchers 2.4-2.5 s after their put was acknowledged, against either
// server), so the row measured the generator. This walks the wire bytes
// instead and builds nothing but a number per event.
//
// Field numbers from rpc.proto / kv.proto: WatchResponse.created = 3,
// WatchResponse.events = 11; Event.kv = 2; KeyValue.mod_revision = 3.

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
      if (this.at >= this.b.length) throw new Error('watch response: truncated varint');
      const byte = this.b[this.at++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new Error('watch response: varint longer than 10 bytes');
  }

  /** Steps over one field's value of wire type `wt`. */
  skip(wt: number): void {
    if (wt === VARINT) this.varint();
    else if (wt === FIXED64) this.at += 8;
    else if (wt === LEN) {
      const len = this.varint(); // read first: `at += varint()` would add to the old `at`
      this.at += len;
    }
    else if (wt === FIXED32) this.at += 4;
    else throw new Error(`watch response: unsupported wire type ${wt}`);
    if (this.at > this.b.length) throw new Error('watch response: truncated field');
  }
}

/** mod_revision of the KeyValue in b[start, end) (0 when absent, as protobuf's default). */
function modRevisionOf(b: Uint8Array, start: number, end: number): number {
  const c = new Cursor(b, start);
  let rev = 0;
  while (c.at < end) {
    const tag = c.varint();
    if (tag === ((3 << 3) | VARINT)) rev = c.varint();
    else c.skip(tag & 7);
  }
  return rev;
}

/** The event's kv.mod_revision, for the Event in b[start, end). */
function eventModRevision(b: Uint8Array, start: number, end: number): number {
  const c = new Cursor(b, start);
  let rev = 0;
  while (c.at < end) {
    const tag = c.varint();
    if (tag === ((2 << 3) | LEN)) {
      const len = c.varint();
      rev = modRevisionOf(b, c.at, c.at + len);
      c.at += len;
    } else c.skip(tag & 7);
  }
  return rev;
}

export function decodeWatchSummary(b: Uint8Array): WatchSummary {
  const c = new Cursor(b, 0);
  let created = false;
  const modRevisions: number[] = [];
  while (c.at < b.length) {
    const tag = c.varint();
    if (tag === ((3 << 3) | VARINT)) created = c.varint() !== 0;
    else if (tag === ((11 << 3) | LEN)) {
      const len = c.varint();
      if (c.at + len > b.length) throw new Error('watch response: truncated event');
      modRevisions.push(eventModRevision(b, c.at, c.at + len));
      c.at += len;
    } else c.skip(tag & 7);
  }
  return { created, modRevisions };
}
