// WaitRegistry: answers reach their own waiter, and timeouts (one shared
// timer) reject exactly the waiters past their deadline.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WaitRegistry } from '../../src/server/wait';

describe('WaitRegistry', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('resolves and fails the waiter of each id', async () => {
    const w = new WaitRegistry('m1');
    const a = w.nextId();
    const b = w.nextId();
    const pa = w.wait(a, 1000, () => new Error('timeout'));
    const pb = w.wait(b, 1000, () => new Error('timeout'));
    expect(w.isWaiting(a)).toBe(true);
    w.trigger(a, 'A');
    w.fail(b, new Error('B'));
    await expect(pa).resolves.toBe('A');
    await expect(pb).rejects.toThrow('B');
    expect(w.size).toBe(0);
    // Another member's id, or one from an earlier life, resolves nothing.
    w.trigger({ ...a, origin: 'm2' }, 'x');
  });

  it('times out each waiter at its own deadline, with one timer', async () => {
    const w = new WaitRegistry('m1');
    const seen: string[] = [];
    const track = (name: string, ms: number): void => {
      w.wait(w.nextId(), ms, () => new Error(name)).then(
        () => seen.push(`${name} answered`),
        (e: Error) => seen.push(e.message),
      );
    };
    track('slow', 3000);
    vi.advanceTimersByTime(500);
    track('fast', 1000); // deadline 1500, before slow's 3000: the timer is re-armed
    track('mid', 2000); // 2500
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual(['fast']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual(['fast', 'mid']);
    await vi.advanceTimersByTimeAsync(500);
    expect(seen).toEqual(['fast', 'mid', 'slow']);
    expect(w.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not time out a waiter that was answered, and failAll rejects the rest', async () => {
    const w = new WaitRegistry('m1');
    const a = w.nextId();
    const pa = w.wait(a, 100, () => new Error('timeout'));
    w.trigger(a, 'ok');
    await vi.advanceTimersByTimeAsync(200);
    await expect(pa).resolves.toBe('ok');
    const pb = w.wait(w.nextId(), 100, () => new Error('timeout'));
    w.failAll(new Error('leader changed'));
    await expect(pb).rejects.toThrow('leader changed');
    expect(vi.getTimerCount()).toBe(0);
  });
});
