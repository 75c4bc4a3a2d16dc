// The ReadIndex batcher: reads that arrive while a round is in flight share the
// next round; a read is released only once apply reaches the round's index; a
// stale answer never releases a newer round; lost rounds are retried.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReadIndexBatcher } from '../../src/server/read-index';
import { Errors } from '../../src/errors';

let requests: Buffer[];
let applied: number;
let leader: string;
let batcher: ReadIndexBatcher;

beforeEach(() => {
  vi.useFakeTimers();
  requests = [];
  applied = 0;
  leader = 'a';
  batcher = new ReadIndexBatcher({
    requestReadIndex: (ctx) => requests.push(ctx),
    appliedIndex: () => applied,
    leader: () => leader,
    timeoutMs: 7000,
    retryMs: 500,
  });
});
afterEach(() => {
  batcher.failAll(Errors.Stopped);
  vi.useRealTimers();
});

const settled = async <T>(p: Promise<T>): Promise<'resolved' | 'rejected' | 'pending'> => {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  p.then(() => (state = 'resolved'), () => (state = 'rejected'));
  await vi.advanceTimersByTimeAsync(0);
  return state;
};

describe('ReadIndexBatcher', () => {
  it('serves many reads with one round per batch', async () => {
    const first = batcher.waitReadable();
    const queued = [batcher.waitReadable(), batcher.waitReadable(), batcher.waitReadable()];
    expect(requests).toHaveLength(1);
    applied = 5;
    batcher.onReadState(requests[0]!, 5);
    expect(await settled(first)).toBe('resolved');
    // The three that came during the first round share the second.
    expect(requests).toHaveLength(2);
    batcher.onReadState(requests[1]!, 6);
    for (const q of queued) expect(await settled(q)).toBe('pending');
    applied = 6;
    batcher.onApplied(6);
    for (const q of queued) expect(await settled(q)).toBe('resolved');
  });

  it('waits for apply to reach the read index', async () => {
    const r = batcher.waitReadable();
    batcher.onReadState(requests[0]!, 10);
    applied = 9;
    batcher.onApplied(9);
    expect(await settled(r)).toBe('pending');
    applied = 10;
    batcher.onApplied(10);
    expect(await settled(r)).toBe('resolved');
  });

  it('ignores an answer whose context is not the round in flight', async () => {
    const r = batcher.waitReadable();
    batcher.onReadState(Buffer.from('someone else'), 1);
    expect(await settled(r)).toBe('pending');
  });

  it('asks again with a fresh context when a round goes unanswered, and a late answer to the old one is ignored', async () => {
    const r = batcher.waitReadable();
    await vi.advanceTimersByTimeAsync(500);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.equals(requests[0]!)).toBe(false);
    batcher.onReadState(requests[0]!, 3);
    expect(await settled(r)).toBe('pending');
    batcher.onReadState(requests[1]!, 3);
    applied = 3;
    batcher.onApplied(3);
    expect(await settled(r)).toBe('resolved');
  });

  it("times out with etcd's errors: leader changed, or plain timeout", async () => {
    const a = batcher.waitReadable().catch((e: unknown) => e);
    leader = 'b';
    await vi.advanceTimersByTimeAsync(7000);
    expect(await a).toBe(Errors.LeaderChanged);
    const b = batcher.waitReadable().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(7000);
    expect(await b).toBe(Errors.Timeout);
  });

  it('retries a round at once when the leader changes', async () => {
    const r = batcher.waitReadable();
    batcher.onLeaderChange();
    expect(requests).toHaveLength(2);
    batcher.onReadState(requests[1]!, 1);
    applied = 1;
    batcher.onApplied(1);
    expect(await settled(r)).toBe('resolved');
  });
});
