// The Maintenance service: Status (what `etcdctl endpoint status` shows) and
// HashKV (what `etcdctl endpoint hashkv` and consistency checks compare).
import type * as grpc from '@grpc/grpc-js';
import type { HeaderValues } from '../server/etcd-server';
import type { HashKVResult } from '../mvcc/types';
import { idToDecimal } from '../server/identity';
import { ETCD_API_VERSION } from '../version';
import { toHeader } from './header';
import { unary } from './unary';

export interface MaintenanceView {
  header(): HeaderValues;
  leader(): string;
  committedIndex(): number;
  appliedIndex(): number;
  dbSize(): number;
  isLearner(): boolean;
  errors(): string[];
  hashKV(revision: number): Promise<HashKVResult>;
}

export function maintenanceService(view: MaintenanceView): grpc.UntypedServiceImplementation {
  return {
    Status: unary(() => {
      const h = view.header();
      return {
        header: toHeader(h),
        version: ETCD_API_VERSION,
        dbSize: view.dbSize(),
        leader: idToDecimal(view.leader()),
        raftIndex: view.committedIndex(),
        raftTerm: h.raftTerm,
        raftAppliedIndex: view.appliedIndex(),
        errors: view.errors(),
        dbSizeInUse: view.dbSize(),
        isLearner: view.isLearner(),
      };
    }),
    HashKV: unary(async (req: { revision: string }) => {
      const res = await view.hashKV(Number(req.revision));
      return {
        header: toHeader(view.header()),
        hash: res.hash,
        compact_revision: res.compactRevision,
        hash_revision: res.hashRevision,
      };
    }),
  };
}
