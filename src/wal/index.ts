// Public surface of the Raft write-ahead log.
export { Wal, type WalDb, type WalOp, type SaveRequest, type WalState, type WalStats } from './wal';
export { WalError, WAL_FORMAT, type WalMeta } from './codec';
