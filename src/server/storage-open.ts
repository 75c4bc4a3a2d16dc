// Opens (or creates) a member's durable state: one LevelDB per member at
// <data-dir>/member/db, holding the Raft WAL and the MVCC store in separate
// sublevels. Decides between bootstrapping a new member and restarting an
// existing one, and refuses a data directory that is not this member's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Level } from 'level';
import type { MemberConfig } from '../cli/config';
import type { Logger } from '../log';
import { MemoryStorage } from '../raft/storage';
import type { HardState, NodeId, Snapshot } from '../raft/types';
import { MvccStore } from '../mvcc/store';
import { Wal, WalError } from '../wal';
import { clusterId as deriveClusterId, memberId as deriveMemberId } from './identity';
import { MemberInfo, Membership } from './membership';
import { decode, encode } from './codec';
import { VERSION } from '../version';
import { attachLogPreallocator, type LogPreallocator } from '../storage/log-prealloc';

export class DataDirError extends Error {}

export interface OpenedState {
  db: Level<Buffer, Buffer>;
  wal: Wal;
  store: MvccStore;
  storage: MemoryStorage;
  memberId: NodeId;
  clusterId: NodeId;
  membership: Membership;
  /** True for a brand-new member: the Raft log must be bootstrapped with the initial voters. */
  fresh: boolean;
  /** The hard state read from the WAL (zero for a fresh member). */
  hardState: HardState;
  /** Extends LevelDB's log ahead of its writer; closed before the db. Absent when switched off. */
  prealloc?: LogPreallocator;
}

export const dbPath = (dataDir: string): string => path.join(dataDir, 'member', 'db');

export async function openMemberState(config: MemberConfig, logger: Logger): Promise<OpenedState> {
  const location = dbPath(config.dataDir);
  const existed = fs.existsSync(location);
  if (!existed && config.initialClusterState === 'existing') {
    throw new DataDirError(
      `--initial-cluster-state=existing with an empty data dir ${config.dataDir}: joining a running cluster (after MemberAdd) is not supported by etcd-ts yet`,
    );
  }
  const selfId = deriveMemberId(config.initialAdvertisePeerUrls, config.initialClusterToken);
  const initial = Membership.fromInitialCluster(config.initialCluster, config.initialClusterToken);
  const cid = deriveClusterId(initial.ids());

  fs.mkdirSync(path.dirname(location), { recursive: true });
  const db = new Level<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (e) {
    throw new DataDirError(`cannot open the data dir ${config.dataDir} (corrupt or not an etcd-ts data dir?): ${(e as Error).message}`);
  }
  const prealloc = attachLogPreallocator(db, location, logger);
  try {
    const walDb = db.sublevel<Buffer, Buffer>('wal', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const mvccDb = db.sublevel<Buffer, Buffer>('mvcc', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const fresh = !(await Wal.exists(walDb));
    let wal: Wal;
    if (fresh) {
      wal = await Wal.bootstrap(walDb, { memberId: selfId, clusterId: cid, version: VERSION }, logger);
      await wal.saveMembership(encode(initial.toJSON()));
    } else {
      try {
        wal = await Wal.open(walDb, {}, logger);
      } catch (e) {
        if (e instanceof WalError) throw new DataDirError(`refusing to start from ${config.dataDir}: ${e.message}`);
        throw e;
      }
      // A data dir made for another member or cluster must not be served as ours.
      if (wal.meta.memberId !== selfId || wal.meta.clusterId !== cid) {
        throw new DataDirError(
          `refusing to start: ${config.dataDir} belongs to member ${wal.meta.memberId} of cluster ${wal.meta.clusterId}, ` +
            `but the flags describe member ${selfId} of cluster ${cid}`,
        );
      }
    }
    const state = await wal.load();
    const storage = new MemoryStorage();
    if (state.snapshot) {
      const snap: Snapshot = { metadata: state.snapshot, data: new Uint8Array(0) };
      storage.applySnapshot(snap);
    }
    storage.setHardState(state.hardState);
    if (state.entries.length > 0) storage.append(state.entries);
    const membership = state.membership ? new Membership(decode<MemberInfo[]>(state.membership)) : initial;
    const store = await MvccStore.open(mvccDb);
    logger.info(
      { memberId: selfId, clusterId: cid, fresh, lastIndex: storage.lastIndex(), consistentIndex: store.consistentIndex(), rev: store.rev },
      fresh ? 'bootstrapping a new member' : 'restarting member from its data dir',
    );
    return { db, wal, store, storage, memberId: selfId, clusterId: cid, membership, fresh, hardState: state.hardState, prealloc };
  } catch (e) {
    prealloc?.close();
    await db.close().catch(() => undefined);
    throw e;
  }
}
