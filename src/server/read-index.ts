// Linearizable reads, batched: every read that arrives while a ReadIndex round
// is in flight joins the next round, so one heartbeat round serves many reads.
// A read is released once the member has applied up to the round's read index.
import { randomBytes } from 'node:crypto';
import { Errors, EtcdError } from '../errors';

interface PendingRead {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Round {
  ctx: Buffer;
  reads: PendingRead[];
  timer: NodeJS.Timeout;
  retry: NodeJS.Timeout;
  leaderAtStart: string;
  /** Known once the leader answered; the reads then wait for apply to reach it. */
  index?: number;
}

export interface ReadIndexDeps {
  /** Asks Raft for a read index with this context (the answer comes back through onReadState). */
  requestReadIndex(ctx: Buffer): void;
  appliedIndex(): number;
  leader(): string;
  timeoutMs: number;
  /** A request Raft dropped (no leader yet, lost message) is asked again this often. */
  retryMs: number;
}

export class ReadIndexBatcher {
  private queued: PendingRead[] = [];
  private inFlight: Round | undefined;
  /** Rounds answered but waiting for apply to catch up, in index order. */
  private waitingApply: Round[] = [];
  private readonly prefix = randomBytes(4);
  private seq = 0;

  constructor(private readonly deps: ReadIndexDeps) {}

  /** Resolves when a linearizable read may be served from local state. */
  waitReadable(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ resolve, reject });
      if (!this.inFlight) this.startRound();
    });
  }

  private startRound(): void {
    if (this.queued.length === 0) return;
    const round: Round = {
      ctx: this.freshCtx(),
      reads: this.queued,
      leaderAtStart: this.deps.leader(),
      timer: setTimeout(() => this.expire(round), this.deps.timeoutMs),
      retry: setInterval(() => {
        round.ctx = this.freshCtx();
        this.deps.requestReadIndex(round.ctx);
      }, this.deps.retryMs),
    };
    this.queued = [];
    this.inFlight = round;
    this.deps.requestReadIndex(round.ctx);
  }

  /**
   * A fresh context per attempt: a late answer to an older attempt can never
   * release a newer one (etcd #20418).
   */
  private freshCtx(): Buffer {
    const ctx = Buffer.alloc(12);
    this.prefix.copy(ctx, 0);
    ctx.writeDoubleBE(++this.seq, 4);
    return ctx;
  }

  private expire(round: Round): void {
    clearInterval(round.retry);
    if (this.inFlight === round) this.inFlight = undefined;
    this.waitingApply = this.waitingApply.filter((r) => r !== round);
    const changed = round.leaderAtStart !== this.deps.leader();
    const err: EtcdError = changed ? Errors.LeaderChanged : Errors.Timeout;
    for (const r of round.reads) r.reject(err);
    this.startRound();
  }

  /** Raft answered a read index request. */
  onReadState(ctx: Uint8Array, index: number): void {
    const round = this.inFlight;
    if (!round || Buffer.compare(round.ctx, Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength)) !== 0) return;
    this.inFlight = undefined;
    clearInterval(round.retry);
    round.index = index;
    this.waitingApply.push(round);
    this.onApplied(this.deps.appliedIndex());
    this.startRound();
  }

  /** Apply advanced: release every round whose index is now applied. */
  onApplied(applied: number): void {
    if (this.waitingApply.length === 0) return;
    const still: Round[] = [];
    for (const round of this.waitingApply) {
      if (round.index! <= applied) {
        clearTimeout(round.timer);
        for (const r of round.reads) r.resolve();
      } else still.push(round);
    }
    this.waitingApply = still;
  }

  /** Leadership changed: a round in flight may never be answered; retry it at once. */
  onLeaderChange(): void {
    const round = this.inFlight;
    if (!round) return;
    clearTimeout(round.timer);
    clearInterval(round.retry);
    this.inFlight = undefined;
    this.queued = round.reads.concat(this.queued);
    this.startRound();
  }

  failAll(err: Error): void {
    const rounds = [...this.waitingApply, ...(this.inFlight ? [this.inFlight] : [])];
    for (const round of rounds) {
      clearTimeout(round.timer);
      clearInterval(round.retry);
      for (const r of round.reads) r.reject(err);
    }
    for (const r of this.queued) r.reject(err);
    this.queued = [];
    this.inFlight = undefined;
    this.waitingApply = [];
  }
}
