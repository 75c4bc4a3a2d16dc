// Public surface of the Raft write-ahead log.
//
// How the server uses it (its own Level per member at <data-dir>/member/wal):
//   const sub = walRoot.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
//   const wal = (await Wal.exists(sub))
//     ? await Wal.open(sub, { memberId, clusterId })       // WalError: refuse to start
//     : await Wal.bootstrap(sub, { memberId, clusterId, version });
//   const { hardState, snapshot, entries, membership } = await wal.load();  // rebuild MemoryStorage
//   per Ready: await wal.save({ hardState, entries, snapshot, mustSync })  // one batch, group-committed
//   after a local snapshot: await wal.saveSnapshot(meta); await wal.compact(compactIndex)
//   after a conf change is applied: await wal.saveMembership(blob)
// Any rejected promise from save/compact means the WAL is unusable: stop the member.
export { Wal, type WalDb, type WalOp, type SaveRequest, type WalState, type WalStats } from './wal';
export { WalError, WAL_FORMAT, type WalMeta } from './codec';
