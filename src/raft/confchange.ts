// Membership changes: how a ConfChange turns one tracker configuration into the next
// (simple single-voter changes, entering and leaving joint consensus), rebuilding the
// configuration from a ConfState, and the byte encoding of ConfChange log entries.
// Changes are computed on copies so a rejected change leaves the tracker untouched.

import { ErrInvalidConfChange } from './errors';
import { Progress } from './progress';
import { cloneTrackerConfig, TrackerConfig } from './tracker';
import { ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfState, NONE, NodeId } from './types';

export interface ChangeResult {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
}

/** An empty change list with the Auto transition means "leave the joint configuration". */
export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}

/** Whether cc enters a joint configuration, and whether that is left automatically. */
export function enterJointMode(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    return {
      joint: true,
      autoLeave: cc.transition === ConfChangeTransition.Auto || cc.transition === ConfChangeTransition.JointImplicit,
    };
  }
  return { joint: false, autoLeave: false };
}

export class Changer {
  constructor(
    private readonly cur: ChangeResult,
    private readonly lastIndex: number,
    private readonly maxInflight: number,
  ) {}

  private copy(): ChangeResult {
    const progress = new Map<NodeId, Progress>();
    for (const [id, pr] of this.cur.progress) progress.set(id, pr.clone());
    return { config: cloneTrackerConfig(this.cur.config), progress };
  }

  enterJoint(autoLeave: boolean, ccs: ConfChangeSingle[]): ChangeResult {
    if (this.cur.config.votersOutgoing.size > 0) throw new ErrInvalidConfChange('config is already joint');
    if (this.cur.config.voters.size === 0) throw new ErrInvalidConfChange("can't make a zero-voter config joint");
    const r = this.copy();
    r.config.votersOutgoing = new Set(r.config.voters);
    this.apply(r, ccs);
    r.config.autoLeave = autoLeave;
    return r;
  }

  leaveJoint(): ChangeResult {
    if (this.cur.config.votersOutgoing.size === 0) throw new ErrInvalidConfChange("can't leave a non-joint config");
    const r = this.copy();
    const c = r.config;
    for (const id of c.learnersNext) {
      c.learners.add(id);
      r.progress.get(id)!.isLearner = true;
    }
    c.learnersNext = new Set();
    for (const id of c.votersOutgoing) {
      if (!c.voters.has(id) && !c.learners.has(id)) r.progress.delete(id);
    }
    c.votersOutgoing = new Set();
    c.autoLeave = false;
    return r;
  }

  /** At most one voter may be added or removed without joint consensus. */
  simple(ccs: ConfChangeSingle[]): ChangeResult {
    if (this.cur.config.votersOutgoing.size > 0) {
      throw new ErrInvalidConfChange("can't apply simple config change in joint config");
    }
    const r = this.copy();
    this.apply(r, ccs);
    let diff = 0;
    for (const id of r.config.voters) if (!this.cur.config.voters.has(id)) diff++;
    for (const id of this.cur.config.voters) if (!r.config.voters.has(id)) diff++;
    if (diff > 1) throw new ErrInvalidConfChange('more than one voter changed without entering joint config');
    return r;
  }

  private apply(r: ChangeResult, ccs: ConfChangeSingle[]): void {
    for (const cc of ccs) {
      if (cc.nodeId === NONE) continue;
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(r, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(r, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(r, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
        default:
          throw new ErrInvalidConfChange(`unknown conf change type ${String(cc.type)}`);
      }
    }
    if (r.config.voters.size === 0) throw new ErrInvalidConfChange('removed all voters');
  }

  private initProgress(r: ChangeResult, id: NodeId, isLearner: boolean): void {
    if (isLearner) r.config.learners.add(id);
    else r.config.voters.add(id);
    // Probing starts at our last index; recentActive so check-quorum does not
    // immediately count a brand-new member as dead.
    r.progress.set(id, new Progress(Math.max(this.lastIndex, 1), this.maxInflight, isLearner, true));
  }

  private makeVoter(r: ChangeResult, id: NodeId): void {
    const pr = r.progress.get(id);
    if (!pr) return this.initProgress(r, id, false);
    pr.isLearner = false;
    r.config.learners.delete(id);
    r.config.learnersNext.delete(id);
    r.config.voters.add(id);
  }

  private makeLearner(r: ChangeResult, id: NodeId): void {
    const pr = r.progress.get(id);
    if (!pr) return this.initProgress(r, id, true);
    if (pr.isLearner) return;
    this.remove(r, id);
    r.progress.set(id, pr);
    // A voter of the outgoing half stays a voter until the joint config is left.
    if (r.config.votersOutgoing.has(id)) r.config.learnersNext.add(id);
    else {
      pr.isLearner = true;
      r.config.learners.add(id);
    }
  }

  private remove(r: ChangeResult, id: NodeId): void {
    if (!r.progress.has(id)) return;
    r.config.voters.delete(id);
    r.config.learners.delete(id);
    r.config.learnersNext.delete(id);
    if (!r.config.votersOutgoing.has(id)) r.progress.delete(id);
  }
}

/** Rebuilds the tracker configuration a ConfState describes (after a snapshot or at boot). */
export function restoreConfig(cs: ConfState, lastIndex: number, maxInflight: number): ChangeResult {
  const config: TrackerConfig = {
    voters: new Set(cs.voters),
    votersOutgoing: new Set(cs.votersOutgoing),
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.votersOutgoing.length > 0 && cs.autoLeave,
  };
  const progress = new Map<NodeId, Progress>();
  const add = (id: NodeId, learner: boolean) => {
    if (!progress.has(id)) progress.set(id, new Progress(lastIndex + 1, maxInflight, learner, true));
  };
  for (const id of cs.voters) add(id, false);
  for (const id of cs.votersOutgoing) add(id, false);
  for (const id of cs.learners) add(id, true);
  for (const id of cs.learnersNext) add(id, false);
  return { config, progress };
}

// ConfChange entries carry a small JSON document: membership changes are rare, so
// readability and zero dependencies beat compactness here.
const enc = new TextEncoder();
const dec = new TextDecoder();

function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const doc = {
    t: cc.transition,
    c: cc.changes.map((s) => [s.type, s.nodeId]),
    x: toHex(cc.context),
  };
  return enc.encode(JSON.stringify(doc));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const doc = JSON.parse(dec.decode(data)) as { t: number; c: [number, string][]; x: string };
  return {
    transition: doc.t as ConfChangeTransition,
    changes: doc.c.map(([type, nodeId]) => ({ type: type as ConfChangeType, nodeId })),
    context: new Uint8Array(Buffer.from(doc.x, 'hex')),
  };
}
