// The leader's view of one follower: how far its log matches, what to send next, and
// the flow-control state. Probe sends one append per heartbeat until the follower's
// position is known; Replicate streams optimistically within an inflight window;
// Snapshot waits for a snapshot to be installed.

export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

/**
 * A ring buffer of the last index of each append in flight. When it is full the leader
 * stops sending, so a slow follower costs bounded memory on the leader.
 */
export class Inflights {
  private start = 0;
  count = 0;
  private buf: number[] = [];
  constructor(readonly size: number) {}

  add(index: number): void {
    if (this.full()) throw new Error('cannot add into a full inflights');
    let next = this.start + this.count;
    if (next >= this.size) next -= this.size;
    if (next >= this.buf.length) this.buf.push(index);
    else this.buf[next] = index;
    this.count++;
  }

  /** Frees every inflight append whose last index is <= to (they were acknowledged). */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.buf[this.start]!) return;
    let i = 0;
    let idx = this.start;
    for (; i < this.count; i++) {
      if (to < this.buf[idx]!) break;
      if (++idx >= this.size) idx -= this.size;
    }
    this.count -= i;
    this.start = idx;
    if (this.count === 0) this.start = 0;
  }

  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.buf[this.start]!);
  }

  full(): boolean {
    return this.count === this.size;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  /** In Probe state: an append was sent and we wait for its answer (or a heartbeat) first. */
  probeSent = false;
  /**
   * The commit index moved and this follower was not told, because it had no
   * entries to receive and waits for nothing (see bcastCommit): its next append
   * or heartbeat carries it, and the leader's next tick sends it at the latest.
   */
  commitPending = false;
  /**
   * The last log index holding proposals this follower forwarded: it has clients
   * waiting on them, so it is told the commit index that covers them at once. 0
   * when there is none.
   */
  forwardedIndex = 0;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, isLearner: boolean, recentActive: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.isLearner = isLearner;
    this.recentActive = recentActive;
  }

  clone(): Progress {
    const p = new Progress(this.next, this.inflights.size, this.isLearner, this.recentActive);
    p.match = this.match;
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.probeSent = this.probeSent;
    p.commitPending = this.commitPending;
    p.forwardedIndex = this.forwardedIndex;
    // A fresh window: the clone replaces the original, whose inflights are dropped.
    return p;
  }

  /** A new term: nothing is known about this member any more. */
  resetForTerm(next: number): void {
    this.resetState(ProgressState.Probe);
    this.match = 0;
    this.next = next;
    this.recentActive = false;
    this.commitPending = false;
    this.forwardedIndex = 0;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, probing resumes just past it (or past match if that is further).
    if (this.state === ProgressState.Snapshot) {
      const ps = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, ps + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records an acknowledgement of n; false if it is stale (not beyond match). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * Handles a rejected append of `rejected`. Returns false when the rejection is stale
   * (out of order); otherwise moves next back, using the follower's hint to skip ahead.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }
}
