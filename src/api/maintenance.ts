// The Maintenance service: Status (what `etcdctl endpoint status` shows),
// Hash and HashKV (consistency checks), Alarm (`etcdctl alarm list/disarm`),
// Defragment (`etcdctl defrag`), MoveLeader (`etcdctl move-leader`) and
// Snapshot (`etcdctl snapshot save`, see snapshot-stream.ts). As in etcd 3.4,
// the answers of Alarm, Defragment, MoveLeader and Snapshot carry no header.
import type * as grpc from '@grpc/grpc-js';
import type { HeaderValues } from '../server/etcd-server';
import type { HashKVResult } from '../mvcc/types';
import { AlarmAction, AlarmType, type AlarmMember } from '../server/alarms';
import { idToDecimal } from '../server/identity';
import { ETCD_API_VERSION } from '../version';
import { toHeader } from './header';
import { unary } from './unary';
import { snapshotHandler } from './snapshot-stream';
import { tokenOf } from './call-token';
import type { SnapshotFile } from '../snapshot/snapshot-file';

export interface MaintenanceView {
  header(): HeaderValues;
  leader(): string;
  committedIndex(): number;
  appliedIndex(): number;
  /** Bytes the store's database takes on disk (etcd: its bbolt file). */
  dbSize(): Promise<number>;
  /** Bytes its records take (etcd: the file's used pages). */
  dbSizeInUse(): number;
  isLearner(): boolean;
  /** Status errors other than alarms ("no leader"). */
  errors(): string[];
  hashKV(revision: number): Promise<HashKVResult>;
  alarms(): AlarmMember[];
  alarm(action: number, memberId: string, alarm: number): Promise<AlarmMember[]>;
  defragment(): Promise<void>;
  moveLeader(targetId: string, deadline: number): Promise<void>;
  /** The state as of the call, written as an etcd backend file. */
  snapshot(): Promise<SnapshotFile>;
  /** With auth on, Defragment, Hash, HashKV and Snapshot need an admin's token (throws otherwise). */
  requireAdmin?(token: string | undefined): Promise<void>;
}

const ALARM_NAMES = Object.keys(AlarmType) as (keyof typeof AlarmType)[];

/** An enum field as the loader hands it over: its name, or the number if unknown. */
function enumValue(v: string | number | undefined, names: Record<string, number>): number {
  if (typeof v === 'number') return v;
  return v === undefined ? 0 : (names[v] ?? 0);
}

const alarmToPb = (a: AlarmMember): object => ({ memberID: a.memberId, alarm: ALARM_NAMES[a.alarm] ?? a.alarm });

/**
 * An alarm as etcd lists it among Status errors: its protobuf compact text,
 * zero fields left out, each field followed by a space ("memberID:7 alarm:NOSPACE ").
 */
export function alarmText(a: AlarmMember): string {
  let s = a.memberId !== '0' ? `memberID:${a.memberId} ` : '';
  if (a.alarm !== AlarmType.NONE) s += `alarm:${ALARM_NAMES[a.alarm] ?? a.alarm} `;
  return s;
}

function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : Number(d);
  return Number.isFinite(ms) && ms > 0 ? ms : Infinity;
}

export function maintenanceService(view: MaintenanceView): grpc.UntypedServiceImplementation {
  return {
    Status: unary(async () => {
      const h = view.header();
      const dbSize = await view.dbSize();
      return {
        header: toHeader(h),
        version: ETCD_API_VERSION,
        dbSize,
        leader: idToDecimal(view.leader()),
        raftIndex: view.committedIndex(),
        raftTerm: h.raftTerm,
        raftAppliedIndex: view.appliedIndex(),
        errors: [...view.errors(), ...view.alarms().map(alarmText)],
        dbSizeInUse: view.dbSizeInUse(),
        isLearner: view.isLearner(),
      };
    }),
    Hash: unary(async (_req: unknown, call) => {
      await view.requireAdmin?.(tokenOf(call.metadata));
      const res = await view.hashKV(0);
      return { header: toHeader(view.header(), res.hashRevision), hash: res.hash };
    }),
    HashKV: unary(async (req: { revision: string }, call) => {
      await view.requireAdmin?.(tokenOf(call.metadata));
      const res = await view.hashKV(Number(req.revision));
      return {
        header: toHeader(view.header()),
        hash: res.hash,
        compact_revision: res.compactRevision,
        hash_revision: res.hashRevision,
      };
    }),
    Alarm: unary(async (req: { action?: string | number; memberID?: string; alarm?: string | number }) => {
      const alarms = await view.alarm(enumValue(req.action, AlarmAction), req.memberID ?? '0', enumValue(req.alarm, AlarmType));
      return { alarms: alarms.map(alarmToPb) };
    }),
    Defragment: unary(async (_req: unknown, call) => {
      await view.requireAdmin?.(tokenOf(call.metadata));
      await view.defragment();
      return {};
    }),
    Snapshot: snapshotHandler(async (call) => {
      await view.requireAdmin?.(tokenOf(call.metadata));
      return view.snapshot();
    }),
    MoveLeader: unary(async (req: { targetID?: string }, call) => {
      await view.moveLeader(req.targetID ?? '0', deadlineOf(call));
      return {};
    }),
  };
}
