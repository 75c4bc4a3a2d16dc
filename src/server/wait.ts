// Client requests waiting for their Raft entry to be applied. Each proposal gets
// an id unique to this process's lifetime (a boot nonce + a counter), so that an
// entry replayed from an earlier life of the member never resolves a new request.
//
// Timeouts share one timer, armed for the earliest deadline: a timer per
// request cost a setTimeout and a clearTimeout on every write (~5-8 µs of the
// leader's CPU per put in a profile of one client), for a timeout that almost
// never fires.
import { randomBytes } from 'node:crypto';

export interface RequestId {
  /** The member that proposed the entry; only it has a waiter. */
  origin: string;
  nonce: number;
  seq: number;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  /** performance.now() after which the waiter is rejected with onTimeout(). */
  deadline: number;
  onTimeout: () => Error;
}

export class WaitRegistry {
  private readonly nonce = randomBytes(4).readUInt32BE(0);
  private seq = 0;
  private readonly waiters = new Map<number, Waiter>();
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for (Infinity when it is not). */
  private armedFor = Infinity;

  constructor(private readonly self: string) {}

  nextId(): RequestId {
    return { origin: this.self, nonce: this.nonce, seq: ++this.seq };
  }

  /**
   * Registers a waiter for `id`. It is rejected with `onTimeout()` after
   * `timeoutMs`: the outcome is then unknown to the client, as in etcd.
   */
  wait<T>(id: RequestId, timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.waiters.set(id.seq, { resolve: resolve as (v: unknown) => void, reject, deadline, onTimeout });
      if (deadline < this.armedFor) this.arm(deadline);
    });
  }

  private arm(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadline - performance.now()));
    // It outlives the waiters it was armed for (answered ones do not disarm it):
    // never let it alone hold a stopping process open.
    this.timer.unref();
  }

  /** Rejects every waiter past its deadline and re-arms for the earliest one left. */
  private expire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [seq, w] of this.waiters) {
      if (w.deadline <= now) {
        this.waiters.delete(seq);
        w.reject(w.onTimeout());
      } else if (w.deadline < next) {
        next = w.deadline;
      }
    }
    if (next !== Infinity) this.arm(next);
  }

  private take(id: RequestId): Waiter | undefined {
    if (id.origin !== this.self || id.nonce !== this.nonce) return undefined;
    const w = this.waiters.get(id.seq);
    if (w) this.waiters.delete(id.seq);
    return w;
  }

  /** Whether a waiter for this id is registered here (cheap test before doing work for it). */
  isWaiting(id: RequestId): boolean {
    return id.origin === this.self && id.nonce === this.nonce && this.waiters.has(id.seq);
  }

  trigger(id: RequestId, value: unknown): void {
    this.take(id)?.resolve(value);
  }

  fail(id: RequestId, err: Error): void {
    this.take(id)?.reject(err);
  }

  /** Fails every waiter, e.g. when the member stops. */
  failAll(err: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }

  get size(): number {
    return this.waiters.size;
  }
}
