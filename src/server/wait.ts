// Client requests waiting for their Raft entry to be applied. Each proposal gets
// an id unique to this process's lifetime (a boot nonce + a counter), so that an
// entry replayed from an earlier life of the member never resolves a new request.
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
  timer: NodeJS.Timeout;
}

export class WaitRegistry {
  private readonly nonce = randomBytes(4).readUInt32BE(0);
  private seq = 0;
  private readonly waiters = new Map<number, Waiter>();

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
      const timer = setTimeout(() => {
        this.waiters.delete(id.seq);
        reject(onTimeout());
      }, timeoutMs);
      this.waiters.set(id.seq, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  private take(id: RequestId): Waiter | undefined {
    if (id.origin !== this.self || id.nonce !== this.nonce) return undefined;
    const w = this.waiters.get(id.seq);
    if (w) {
      this.waiters.delete(id.seq);
      clearTimeout(w.timer);
    }
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
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }

  get size(): number {
    return this.waiters.size;
  }
}
