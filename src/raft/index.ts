// Public surface of the Raft core for the server, WAL and transport layers.

export * from './types';
export { RawNode } from './rawnode';
export { startNode, restartNode } from './bootstrap';
export type { Config } from './config';
export { MemoryStorage } from './storage';
export type { Storage, InitialState } from './storage';
export {
  ErrCompacted,
  ErrUnavailable,
  ErrSnapOutOfDate,
  ErrSnapshotTemporarilyUnavailable,
  ErrProposalDropped,
  ErrStepLocalMsg,
  ErrStepPeerNotFound,
  ErrInvalidConfChange,
} from './errors';
export { mulberry32, randInt } from './prng';
export type { Rand } from './prng';
export { encodeConfChange, decodeConfChange } from './confchange';
export type { Status, ProgressStatus } from './status';
export { ProgressState } from './progress';
export { isEmptySnap, isEmptyHardState, canSendBeforePersist, mayLeaveBeforePersist } from './util';
