import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, FrameType, encodeFrame } from '../../src/transport/frame';
import { decodeMessages, encodeMessages } from '../../src/transport/codec';
import { msg } from './helpers';

describe('frames', () => {
  it('reassembles frames split at every possible boundary', () => {
    const frames = [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(70_000, 7), Buffer.from('hello')];
    const wire = Buffer.concat(frames.map((f, i) => encodeFrame(i % 2 ? FrameType.Messages : FrameType.SnapChunk, f)));
    // Deterministic pseudo-random chunkings, bounded count.
    for (let seed = 1; seed <= 50; seed++) {
      const out: Buffer[] = [];
      const d = new FrameDecoder((_, p) => out.push(Buffer.from(p)));
      let s = seed;
      for (let off = 0; off < wire.length; ) {
        s = (s * 16807) % 2147483647;
        const n = 1 + (s % (seed < 10 ? 3 : 9000));
        d.push(wire.subarray(off, off + n));
        off += n;
      }
      // Buffer.equals: vitest's deep equality walks 70 KB byte by byte.
      expect(out.length).toBe(frames.length);
      out.forEach((f, i) => expect(f.equals(frames[i]!)).toBe(true));
    }
  });

  it('rejects an absurd frame length instead of buffering it', () => {
    const d = new FrameDecoder(() => {}, 1024);
    const h = Buffer.from([0, 0, 0x10, 0, FrameType.Messages]);
    expect(() => d.push(h)).toThrow(FrameError);
  });

  it('round-trips message batches', () => {
    const ms = [msg('a', 'b', 1), { ...msg('a', 'b', 2), reject: true, rejectHint: 9, context: Buffer.from('ctx') }];
    const back = decodeMessages(encodeMessages(ms));
    expect(back.map((m) => [m.index, m.reject, m.rejectHint, Buffer.from(m.context).toString(), m.entries.length])).toEqual([
      [1, false, 0, '', 1],
      [2, true, 9, 'ctx', 1],
    ]);
  });
});
