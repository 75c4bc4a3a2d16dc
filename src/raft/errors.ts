// Errors the Raft core and its storage raise. Each is its own class so callers can
// tell them apart with instanceof rather than by message text.

/** The requested index is older than the storage's first kept entry (compacted away). */
export class ErrCompacted extends Error {
  constructor() {
    super('requested index is unavailable due to compaction');
    this.name = 'ErrCompacted';
  }
}

/** The requested index is newer than the storage's last entry. */
export class ErrUnavailable extends Error {
  constructor() {
    super('requested entry at index is unavailable');
    this.name = 'ErrUnavailable';
  }
}

/** A snapshot older than the one the storage already holds. */
export class ErrSnapOutOfDate extends Error {
  constructor() {
    super('requested index is older than the existing snapshot');
    this.name = 'ErrSnapOutOfDate';
  }
}

/** Storage cannot produce a snapshot right now; the leader retries later. */
export class ErrSnapshotTemporarilyUnavailable extends Error {
  constructor() {
    super('snapshot is temporarily unavailable');
    this.name = 'ErrSnapshotTemporarilyUnavailable';
  }
}

/**
 * A proposal (or conf change) was not accepted: no leader known, leadership transfer in
 * progress, the uncommitted-size quota is full, this member was removed, or a conf change
 * is already pending. The caller may retry; nothing was appended.
 */
export class ErrProposalDropped extends Error {
  constructor(reason = 'raft proposal dropped') {
    super(reason);
    this.name = 'ErrProposalDropped';
  }
}

/** A local-only message type (Hup, Beat, ...) was passed to RawNode.step from the network. */
export class ErrStepLocalMsg extends Error {
  constructor() {
    super('raft: cannot step raft local message');
    this.name = 'ErrStepLocalMsg';
  }
}

/** A response from a peer the tracker does not know (e.g. already removed). */
export class ErrStepPeerNotFound extends Error {
  constructor() {
    super('raft: cannot step as peer not found');
    this.name = 'ErrStepPeerNotFound';
  }
}

/** An invalid configuration change (e.g. removing all voters, two voter changes at once). */
export class ErrInvalidConfChange extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'ErrInvalidConfChange';
  }
}
