// One write transaction (a Put, a DeleteRange or a whole Txn): every change
// gets the same main revision beginRev+1 and the next sub revision. Changes
// go straight into the key index so later ops of the same txn see them (as
// etcd's storeTxnWrite); an undo log lets a txn that throws leave no trace.

import type { Backend } from './backend';
import { encodeRecord, encodeTombstone } from './codec';
import { shareZeroLease, type KeyEntry, type KeyIndex } from './key-index';
import type { KeyRange, ReadView } from './reader';
import type { Event, KeyValue } from './types';

/**
 * One change: the key's state before it (for undo and prev_kv) and the
 * version it wrote (for the change feed: a later change of the same key in
 * this txn must not alter what this event says).
 */
interface Change {
  entry: KeyEntry;
  revsLen: number;
  value: string | null;
  createRevision: number;
  version: number;
  lease: bigint;
  tombstone: boolean;
  /** The bytes written (the request's own buffer: no copy unless someone watches). */
  newValue: Buffer | null;
  newCreateRevision: number;
  newVersion: number;
  newLease: bigint;
}

export class WriteTxn implements ReadView {
  private changes: Change[] = [];

  constructor(
    readonly index: KeyIndex,
    readonly backend: Backend,
    readonly beginRev: number,
    readonly compactRev: number,
  ) {}

  /** What reads inside this txn see: its own writes included (etcd's rule). */
  get rev(): number {
    return this.changes.length ? this.beginRev + 1 : this.beginRev;
  }

  get changed(): boolean {
    return this.changes.length > 0;
  }

  put(key: string, value: Buffer, lease: bigint): void {
    const main = this.beginRev + 1;
    const e = this.index.getOrCreate(key);
    const change = save(e, false);
    if (e.value === null) this.index.liveChanged(e, 1);
    const created = e.value === null ? main : e.createRevision;
    const version = e.value === null ? 1 : e.version + 1;
    const keyBuf = Buffer.from(key, 'latin1');
    const raw = encodeRecord(keyBuf, value, created, version, lease);
    const sub = this.changes.length;
    this.backend.add(main, sub, raw);
    e.addRev(main, sub);
    e.value = value.toString('latin1');
    e.createRevision = created;
    e.version = version;
    e.lease = shareZeroLease(lease);
    change.newValue = value;
    change.newCreateRevision = created;
    change.newVersion = version;
    change.newLease = lease;
    this.changes.push(change);
  }

  /** Deletes the live keys of a range; returns the entries' previous versions. */
  deleteRange(kr: KeyRange, wantPrev: boolean): { deleted: number; prevKvs: KeyValue[] } {
    const victims: KeyEntry[] = [];
    if (kr.single) {
      const e = this.index.get(kr.start);
      if (e && e.value !== null) victims.push(e);
    } else {
      this.index.forEachInRange(kr.start, kr.end, (e) => {
        if (e.value !== null) victims.push(e);
      });
    }
    const prevKvs: KeyValue[] = [];
    const main = this.beginRev + 1;
    for (const e of victims) {
      const change = save(e, true);
      if (wantPrev) prevKvs.push(kvOfSaved(change));
      const sub = this.changes.length;
      this.backend.add(main, sub, encodeTombstone(Buffer.from(e.key, 'latin1')));
      e.addRev(main, -sub - 1);
      this.index.liveChanged(e, -1);
      e.value = null;
      e.createRevision = 0;
      e.version = 0;
      e.lease = 0n;
      this.changes.push(change);
    }
    return { deleted: victims.length, prevKvs };
  }

  /** Undo every change of this txn (index and pending backend records). */
  rollback(): void {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const s = this.changes[i]!;
      const e = s.entry;
      if ((e.value !== null) !== (s.value !== null)) this.index.liveChanged(e, s.value !== null ? 1 : -1);
      e.truncateRevs(s.revsLen);
      e.value = s.value;
      e.createRevision = s.createRevision;
      e.version = s.version;
      e.lease = s.lease;
      if (e.revsLength === 0) this.index.remove(e.key);
    }
    if (this.changes.length) this.backend.dropFrom(this.beginRev + 1);
    this.changes = [];
  }

  /**
   * The txn's events in sub-revision order (built only when someone
   * listens). prevKv is the key's version before this txn, what etcd's
   * watchers read at revision-1, even if the txn changed the key twice.
   */
  events(): Event[] {
    const rev = this.beginRev + 1;
    const first = this.changes.length > 1 ? new Map<KeyEntry, Change>() : undefined;
    return this.changes.map((c) => {
      let before = c;
      if (first) {
        before = first.get(c.entry) ?? c;
        if (before === c) first.set(c.entry, c);
      }
      const key = Buffer.from(c.entry.key, 'latin1');
      const kv: KeyValue = c.tombstone
        ? { key, createRevision: 0, modRevision: rev, version: 0, value: EMPTY, lease: 0n }
        : { key, createRevision: c.newCreateRevision, modRevision: rev, version: c.newVersion, value: c.newValue!, lease: c.newLease };
      const type = c.tombstone ? 'DELETE' : 'PUT';
      return before.value !== null ? { type, kv, prevKv: kvOfSaved(before) } : { type, kv };
    });
  }
}

const EMPTY = Buffer.alloc(0);

function save(e: KeyEntry, tombstone: boolean): Change {
  return {
    entry: e,
    revsLen: e.revsLength,
    value: e.value,
    createRevision: e.createRevision,
    version: e.version,
    lease: e.lease,
    tombstone,
    newValue: null,
    newCreateRevision: 0,
    newVersion: 0,
    newLease: 0n,
  };
}

function kvOfSaved(s: Change): KeyValue {
  return {
    key: Buffer.from(s.entry.key, 'latin1'),
    createRevision: s.createRevision,
    modRevision: s.revsLen ? s.entry.mainAt(s.revsLen - 2) : 0,
    version: s.version,
    value: s.value!,
    lease: s.lease,
  };
}
