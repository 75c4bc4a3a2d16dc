// What the Maintenance service sees of a member: its Raft progress, its store
// (sizes, hashes, a snapshot file), its alarms, leadership transfer and
// defragmentation. Built from the member's parts in one place, so member.ts
// only wires.
import type { MaintenanceView } from '../api/maintenance';
import { Errors } from '../errors';
import type { Lessor } from '../lease/lessor';
import type { Logger } from '../log';
import type { MvccStore } from '../mvcc/store';
import { NONE } from '../raft/types';
import { writeSnapshotFile } from '../snapshot/snapshot-file';
import { defragment } from '../storage/defragment';
import { diskUsage } from '../storage/disk-usage';
import type { Level } from 'level';
import type { AlarmStore } from './alarms';
import type { EtcdServer } from './etcd-server';
import type { Membership } from './membership';
import { moveLeader } from './move-leader';
import type { RaftDriver } from './raft-driver';

export interface MaintenanceParts {
  server: EtcdServer;
  driver: RaftDriver;
  store: MvccStore;
  lessor: Lessor;
  alarms: AlarmStore;
  membership: Membership;
  /** The store's database and its directory. */
  db: Level<Buffer, Buffer>;
  dbDir: string;
  isLearner: () => boolean;
  heartbeatMs: number;
  requestTimeoutMs: number;
  logger: Logger;
  requireAdmin?: (token: string | undefined) => Promise<void>;
}

export function maintenanceView(p: MaintenanceParts): MaintenanceView {
  const { server, driver, store, lessor, alarms } = p;
  return {
    header: () => server.header(),
    leader: () => driver.leader,
    committedIndex: () => driver.committed,
    appliedIndex: () => driver.appliedIndex,
    dbSize: () => diskUsage(p.dbDir),
    dbSizeInUse: () => store.dbSize(),
    isLearner: p.isLearner,
    ...(p.requireAdmin ? { requireAdmin: p.requireAdmin } : {}),
    errors: () => (driver.leader === NONE ? [Errors.NoLeader.message] : []),
    hashKV: (rev) => store.hashKV(rev),
    alarms: () => alarms.list(),
    alarm: (action, id, alarm) => server.alarm(action, id, alarm),
    defragment: async () => {
      p.logger.info('starting defragment');
      const before = await diskUsage(p.dbDir);
      await defragment(p.db);
      p.logger.info({ sizeBefore: before, sizeAfter: await diskUsage(p.dbDir) }, 'finished defragment');
    },
    snapshot: () => {
      // Captured in one go: records, leases and alarms as of the same applied index.
      const { records, compactRev, consistentIndex } = store.versions();
      const leases = lessor.ids().map((id) => ({ id, ttl: lessor.get(id)!.ttl }));
      return writeSnapshotFile({ records, compactRev, consistentIndex, leases, alarms: alarms.list() });
    },
    moveLeader: (target, deadline) =>
      moveLeader(
        {
          selfId: server.memberId,
          leader: () => driver.leader,
          withNode: (fn) => driver.withNode(fn),
          membership: p.membership,
          pollMs: p.heartbeatMs,
          timeoutMs: p.requestTimeoutMs,
        },
        target,
        deadline,
      ),
  };
}
