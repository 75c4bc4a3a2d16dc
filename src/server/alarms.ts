// The cluster's alarms (etcd's AlarmStore): which member raised which alarm.
// They change only by applying committed Alarm entries, so every member holds
// the same list. Each alarm is an aux record of the MVCC store, written in the
// same batch as the consistent index, so alarms survive restarts and travel in
// snapshots; the list is reloaded when a snapshot replaces the store.
//
// While an alarm is active, members refuse at apply time what etcd's capped
// and corrupt appliers refuse (etcdserver/apply.go): with NOSPACE, puts, txns
// that put and lease grants; with CORRUPT, every write and lease change. Reads
// (and, with NOSPACE, deletes and compactions) go on, so an operator can free
// space before disarming.
import { EtcdError, Errors } from '../errors';
import type { MvccStore } from '../mvcc/store';
import type { WriteRequest } from '../mvcc/types';
import { txnCost } from './quota';

/** etcdserverpb.AlarmType. */
export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
/** etcdserverpb.AlarmRequest.AlarmAction. */
export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;

export interface AlarmMember {
  /** uint64 member id, in decimal (as on the wire). */
  memberId: string;
  alarm: number;
}

const AUX_PREFIX = 'alarm/';
const auxName = (a: AlarmMember): string => `${AUX_PREFIX}${a.alarm}/${a.memberId}`;

export class AlarmStore {
  /** Active alarms by type, then member, in the order they were raised. */
  private byType = new Map<number, Map<string, AlarmMember>>();
  private noSpace = false;
  private corrupt = false;

  constructor(private readonly store: MvccStore) {
    this.load();
    store.onRestore(() => this.load());
  }

  /** Alarms of one type, or all of them for NONE (etcd's Get). */
  list(type: number = AlarmType.NONE): AlarmMember[] {
    if (type !== AlarmType.NONE) return [...(this.byType.get(type)?.values() ?? [])];
    return [...this.byType.values()].flatMap((m) => [...m.values()]);
  }

  /**
   * Applies one committed Alarm request and returns the response's alarms:
   * the list for GET, the alarm raised (or already there) for ACTIVATE, the
   * alarm cleared (if it was there) for DEACTIVATE. An unknown action changes
   * nothing and returns none (etcd 3.4 crashes on one).
   */
  apply(action: number, memberId: string, alarm: number): AlarmMember[] {
    switch (action) {
      case AlarmAction.GET:
        return this.list(alarm);
      case AlarmAction.ACTIVATE: {
        let members = this.byType.get(alarm);
        if (!members) this.byType.set(alarm, (members = new Map()));
        const existing = members.get(memberId);
        if (existing) return [existing];
        const added = { memberId, alarm };
        members.set(memberId, added);
        this.store.putAux(auxName(added), Buffer.from([1]));
        this.refresh();
        return [added];
      }
      case AlarmAction.DEACTIVATE: {
        const removed = this.byType.get(alarm)?.get(memberId);
        if (!removed) return [];
        this.byType.get(alarm)!.delete(memberId);
        this.store.putAux(auxName(removed), null);
        this.refresh();
        return [removed];
      }
      default:
        return [];
    }
  }

  /** Whether any alarm that refuses writes is active: the one check on the apply path. */
  get restrictive(): boolean {
    return this.noSpace || this.corrupt;
  }

  /** Why an active alarm refuses this write at apply time, or null if it may be applied. */
  refusal(req: WriteRequest): EtcdError | null {
    if (this.corrupt) return Errors.Corrupt;
    if (!this.noSpace) return null;
    if ('put' in req) return Errors.NoSpace;
    if ('txn' in req && txnCost(req.txn) > 0) return Errors.NoSpace;
    return null;
  }

  /** Why an active alarm refuses a lease grant (grant = true) or revoke, or null. */
  leaseRefusal(grant: boolean): EtcdError | null {
    if (this.corrupt) return Errors.Corrupt;
    return grant && this.noSpace ? Errors.NoSpace : null;
  }

  private load(): void {
    this.byType = new Map();
    for (const [name] of this.store.auxEntries(AUX_PREFIX)) {
      const [type, memberId] = name.slice(AUX_PREFIX.length).split('/');
      const alarm = Number(type);
      if (!Number.isInteger(alarm) || !memberId) continue;
      if (!this.byType.has(alarm)) this.byType.set(alarm, new Map());
      this.byType.get(alarm)!.set(memberId, { memberId, alarm });
    }
    this.refresh();
  }

  private refresh(): void {
    this.noSpace = (this.byType.get(AlarmType.NOSPACE)?.size ?? 0) > 0;
    this.corrupt = (this.byType.get(AlarmType.CORRUPT)?.size ?? 0) > 0;
  }
}
