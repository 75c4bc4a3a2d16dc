// Opens (or creates) a member's durable state: two LevelDB databases per
// member, the Raft WAL at <data-dir>/member/wal and the MVCC store at
// <data-dir>/member/db (etcd's own layout names its WAL directory the same way).
// Decides between bootstrapping a new member and restarting an existing one,
// and refuses a data directory that is not this member's.
//
// Why two databases: the WAL's entries and the store's revisions are two
// streams of ever-growing keys. In one LevelDB every memtable flush held the
// newest keys of both streams, so each level-0 table spanned the whole older
// stream between them, and every level-0 compaction rewrote all of level 1.
// After 400,000 writes LevelDB's compaction thread cost 14 µs per put on each
// member, against 2-3 on a fresh one (bench/README.md). Apart, each database
// is one append stream with its rewritten keys after it (the WAL's hard state,
// the store's meta keys), so a flush overlaps only the newest tables.
//
// Ordering between the two: the store is only written for entries the WAL
// has already fsynced (the Raft driver applies nothing before), and it is
// fsynced itself before the WAL drops entries (takeSnapshot) or records a
// snapshot it received (MvccStore.restore).
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
import { joinCluster, type JoinedCluster } from './join';

export class DataDirError extends Error {}

export interface OpenedState {
  /** The MVCC store's database. */
  db: Level<Buffer, Buffer>;
  /** The WAL's database; closed after the store's. */
  walDb: Level<Buffer, Buffer>;
  wal: Wal;
  store: MvccStore;
  storage: MemoryStorage;
  memberId: NodeId;
  clusterId: NodeId;
  membership: Membership;
  /** True for a brand-new member: the Raft log must be bootstrapped with the initial voters (unless joining). */
  fresh: boolean;
  /** A brand-new member joining a running cluster: its log comes from the leader, not a bootstrap. */
  joining: boolean;
  /** The hard state read from the WAL (zero for a fresh member). */
  hardState: HardState;
  /** Extends the WAL database's LevelDB log ahead of its writer; closed before it. Absent when switched off. */
  prealloc?: LogPreallocator;
}

export const dbPath = (dataDir: string): string => path.join(dataDir, 'member', 'db');
export const walPath = (dataDir: string): string => path.join(dataDir, 'member', 'wal');

const BUFFERS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

async function openLevel(location: string, dataDir: string): Promise<Level<Buffer, Buffer>> {
  const db = new Level<Buffer, Buffer>(location, BUFFERS);
  try {
    await db.open();
  } catch (e) {
    throw new DataDirError(`cannot open the data dir ${dataDir} (corrupt or not an etcd-ts data dir?): ${(e as Error).message}`);
  }
  return db;
}

/** Whether the saved member list gives member `id` this member's advertised peer URLs. */
function peerUrlsMatch(membership: Membership, id: NodeId, config: MemberConfig): boolean {
  const norm = (urls: readonly string[]): string => urls.map((u) => new URL(u).host).sort().join(',');
  const me = membership.get(id);
  return !!me && norm(me.peerUrls) === norm(config.initialAdvertisePeerUrls);
}

export async function openMemberState(config: MemberConfig, logger: Logger): Promise<OpenedState> {
  const location = dbPath(config.dataDir);
  const walLocation = walPath(config.dataDir);
  const existed = fs.existsSync(location) || fs.existsSync(walLocation);
  // An empty data dir with --initial-cluster-state=existing joins a running
  // cluster: ids and members come from it, and nothing is created before that.
  let joined: JoinedCluster | undefined;
  if (!existed && config.initialClusterState === 'existing') {
    try {
      joined = await joinCluster(config, logger);
    } catch (e) {
      throw new DataDirError(`--initial-cluster-state=existing with an empty data dir ${config.dataDir}: ${(e as Error).message}`);
    }
  }
  const selfId = joined?.selfId ?? deriveMemberId(config.initialAdvertisePeerUrls, config.initialClusterToken);
  const initial = joined ? new Membership(joined.members) : Membership.fromInitialCluster(config.initialCluster, config.initialClusterToken);
  const cid = joined?.clusterId ?? deriveClusterId(initial.ids());

  fs.mkdirSync(path.dirname(location), { recursive: true });
  const db = await openLevel(location, config.dataDir);
  let walRoot: Level<Buffer, Buffer> | undefined;
  let prealloc: LogPreallocator | undefined;
  try {
    // A data dir from before the WAL had a database of its own keeps it in the
    // store's: refused, rather than bootstrapped over or given a second WAL.
    if (!fs.existsSync(walLocation) && (await Wal.exists(db.sublevel<Buffer, Buffer>('wal', BUFFERS)))) {
      throw new DataDirError(
        `refusing to start from ${config.dataDir}: it holds the Raft log inside member/db, the layout of an older etcd-ts; this version keeps it in member/wal`,
      );
    }
    walRoot = await openLevel(walLocation, config.dataDir);
    // Only the WAL's writes are synced, so only its log is worth preallocating.
    prealloc = attachLogPreallocator(walRoot, walLocation, logger);
    // Sublevels, not the bare databases: their writes go through the RootWriter
    // (one LevelDB call for many batches; see storage/batch-writer.ts).
    const walDb = walRoot.sublevel<Buffer, Buffer>('wal', BUFFERS);
    const mvccDb = db.sublevel<Buffer, Buffer>('mvcc', BUFFERS);
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
    }
    const state = await wal.load();
    const membership = state.membership ? new Membership(decode<MemberInfo[]>(state.membership)) : initial;
    // A data dir made for another member or cluster must not be served as ours.
    // A member that joined (existing state) has ids the flags cannot derive:
    // it is recognised by its advertised peer URLs in the list it saved.
    if (!fresh && (wal.meta.memberId !== selfId || wal.meta.clusterId !== cid) && !(config.initialClusterState === 'existing' && peerUrlsMatch(membership, wal.meta.memberId, config))) {
      throw new DataDirError(
        `refusing to start: ${config.dataDir} belongs to member ${wal.meta.memberId} of cluster ${wal.meta.clusterId}, ` +
          `but the flags describe member ${selfId} of cluster ${cid}`,
      );
    }
    const storage = new MemoryStorage();
    if (state.snapshot) {
      const snap: Snapshot = { metadata: state.snapshot, data: new Uint8Array(0) };
      storage.applySnapshot(snap);
    }
    storage.setHardState(state.hardState);
    if (state.entries.length > 0) storage.append(state.entries);
    const store = await MvccStore.open(mvccDb);
    logger.info(
      { memberId: wal.meta.memberId, clusterId: wal.meta.clusterId, fresh, lastIndex: storage.lastIndex(), consistentIndex: store.consistentIndex(), rev: store.rev },
      fresh ? 'bootstrapping a new member' : 'restarting member from its data dir',
    );
    return { db, walDb: walRoot, wal, store, storage, memberId: wal.meta.memberId, clusterId: wal.meta.clusterId, membership, fresh, joining: fresh && !!joined, hardState: state.hardState, prealloc };
  } catch (e) {
    prealloc?.close();
    await db.close().catch(() => undefined);
    await walRoot?.close().catch(() => undefined);
    throw e;
  }
}
