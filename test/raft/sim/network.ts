// The simulated network: every message is copied (as serialization would), then may
// be dropped, duplicated, delayed (which reorders) or cut by a partition.

import { Rand } from '../../../src/raft/prng';
import { Message, MessageType, NodeId } from '../../../src/raft/types';

export interface NetFaults {
  drop: number;
  dup: number;
  /** Probability a message is delayed beyond the next sub-round. */
  delay: number;
  maxDelay: number;
  /** Probability a message is held back for 30..180 sub-rounds. */
  stale: number;
}

export const NO_FAULTS: NetFaults = { drop: 0, dup: 0, delay: 0, maxDelay: 0, stale: 0 };

interface InFlight {
  m: Message;
  due: number;
  seq: number;
}

/** A copy as a real transport would deliver it: fresh objects, shared immutable bytes. */
export function copyMessage(m: Message): Message {
  return {
    ...m,
    entries: m.entries.length === 0 ? m.entries : m.entries.map((e) => ({ ...e })),
  };
}

export class Network {
  private inflight: InFlight[] = [];
  private seq = 0;
  /** Group number per member; members in different groups cannot talk. */
  private group = new Map<NodeId, number>();
  faults: NetFaults = NO_FAULTS;

  constructor(private readonly rand: Rand) {}

  canTalk(a: NodeId, b: NodeId): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  partition(groups: NodeId[][]): void {
    this.group.clear();
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i)));
  }

  heal(): void {
    this.group.clear();
  }

  get size(): number {
    return this.inflight.length;
  }

  /** Queues m at time `now` (in sub-rounds); returns false if it was dropped at once. */
  send(m: Message, now: number): boolean {
    if (!this.canTalk(m.from, m.to) || this.rand() < this.faults.drop) return false;
    const copies = this.rand() < this.faults.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delayed = this.rand() < this.faults.delay;
      let due = now + 1 + (delayed ? 1 + Math.floor(this.rand() * this.faults.maxDelay) : 0);
      // Now and then a message is held for a long time and arrives from another era
      // (older term, stale progress): a good test of every staleness check.
      if (this.rand() < this.faults.stale) due += 30 + Math.floor(this.rand() * 150);
      this.inflight.push({ m: copyMessage(m), due, seq: this.seq++ });
    }
    return true;
  }

  /**
   * Messages due by `now`, in a random order (reordering among them). Those a partition
   * cuts are left out, except that cut snapshots are returned in `lost` so the sender's
   * transport can report the failure, as a real one would.
   */
  due(now: number, lost: Message[]): Message[] {
    const ready: InFlight[] = [];
    const rest: InFlight[] = [];
    for (const f of this.inflight) (f.due <= now ? ready : rest).push(f);
    this.inflight = rest;
    for (let i = ready.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      const t = ready[i]!;
      ready[i] = ready[j]!;
      ready[j] = t;
    }
    const out: Message[] = [];
    for (const f of ready) {
      if (this.canTalk(f.m.from, f.m.to)) out.push(f.m);
      else if (f.m.type === MessageType.Snap) lost.push(f.m);
    }
    return out;
  }

  clear(): void {
    this.inflight = [];
  }
}
