// Membership on a live member: applying a committed ConfChange to the tracker (and
// what a leader must do when the quorum changes), and installing a leader's snapshot,
// which replaces both the log and the configuration.

import { Changer, enterJointMode, isLeaveJoint } from './confchange';
import type { Raft } from './raft';
import { releasePendingReadIndexMessages } from './read_index';
import { bcastAppend, maybeSendAppend } from './replicate';
import { ConfChange, ConfState, NONE, Snapshot, StateType } from './types';

export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  const changer = new Changer({ config: r.trk.config, progress: r.trk.progress }, r.raftLog.lastIndex(), r.cfg.maxInflightMsgs);
  let next;
  if (isLeaveJoint(cc)) next = changer.leaveJoint();
  else {
    const { joint, autoLeave } = enterJointMode(cc);
    next = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
  }
  r.trk.config = next.config;
  r.trk.progress = next.progress;
  return switchToConfig(r);
}

function switchToConfig(r: Raft): ConfState {
  const cs = r.trk.confState();
  const pr = r.trk.progress.get(r.id);
  r.isLearner = pr?.isLearner ?? false;
  if ((pr === undefined || r.isLearner) && r.state === StateType.Leader) {
    // Removed or demoted: a leader that is not a voter must not keep leading.
    r.becomeFollower(r.term, NONE);
    return cs;
  }
  if (r.state !== StateType.Leader || cs.voters.length === 0) return cs;
  // The quorum changed: the commit index may move, and new members need the log.
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else for (const id of r.trk.progress.keys()) if (id !== r.id) maybeSendAppend(r, id, false);
  if (r.leadTransferee !== NONE && !r.trk.isVoter(r.leadTransferee)) r.abortLeaderTransfer();
  return cs;
}

/** Installs a snapshot from the leader; false if it is stale or already covered by our log. */
export function restore(r: Raft, s: Snapshot): boolean {
  const md = s.metadata;
  if (md.index <= r.raftLog.committed) return false;
  // A snapshot whose configuration does not list us yet is still accepted: a member
  // added after the snapshot was taken learns of its own addition from the entries
  // that follow it. Refusing would leave it asking for the same snapshot forever.
  const cs = md.confState;
  if (r.raftLog.matchTerm(md.index, md.term)) {
    // Our log already has the snapshot's last entry: just fast-forward commit.
    r.raftLog.commitTo(md.index);
    return false;
  }
  r.raftLog.restore(s);
  r.restoreConf(cs);
  return true;
}
