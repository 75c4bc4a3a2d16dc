// The chaos run's watch check: a watcher on every member, on the workload's key
// prefix, records for each key the revisions of the events it receives,
// resuming from just after the last event received across every disconnect and
// restart (see resumeRevision: the etcd3 client's own resume point can run
// ahead). After healing, each member's record must equal, key by key, the
// history the store committed: ordered, no gap, no duplicate.
import { Etcd3, type Watcher } from 'etcd3';

export interface MemberWatch {
  member: string;
  /** key -> mod revisions of its events, in the order received. */
  seen: Map<string, number[]>;
  /** Highest event revision received. */
  lastRevision: number;
  errors: number;
}

export interface WatchCheckResult {
  ok: boolean;
  /** One line per difference: member, key, what was expected and what arrived. */
  problems: string[];
  eventsChecked: number;
}

export class WatchCheck {
  private readonly clients: Etcd3[] = [];
  readonly watchers: Watcher[] = [];
  readonly members: MemberWatch[] = [];

  /** Watches `prefix` on each member from `startRevision` (every event after it). */
  static async start(endpoints: Record<string, string>, prefix: string, startRevision: number): Promise<WatchCheck> {
    const wc = new WatchCheck();
    for (const [member, endpoint] of Object.entries(endpoints)) {
      const client = new Etcd3({ hosts: [endpoint], dialTimeout: 2000 });
      const record: MemberWatch = { member, seen: new Map(), lastRevision: 0, errors: 0 };
      const note = (kv: { key: Buffer; mod_revision: string }) => {
        const key = kv.key.toString();
        const rev = Number(kv.mod_revision);
        const list = record.seen.get(key) ?? [];
        list.push(rev);
        record.seen.set(key, list);
        record.lastRevision = Math.max(record.lastRevision, rev);
      };
      const watcher = await client.watch().prefix(prefix).startRevision(String(startRevision)).create();
      watcher.on('put', note);
      watcher.on('delete', note);
      watcher.on('error', () => record.errors++);
      // Resume where the events stop, as Go's clientv3 does. The etcd3 package
      // moves its resume point to header.revision + 1 of every answer, the
      // `created` one included; but etcd (and etcd-ts) answer `created` with the
      // store's current revision, not the watch's progress, so a watcher cut off
      // while catching up would resume past events it never received. These
      // listeners run after the package's own and put the point back.
      const resume = (): void => {
        watcher.request.start_revision = String(resumeRevision(startRevision, record.lastRevision));
      };
      watcher.on('connected', resume);
      watcher.on('data', resume);
      resume();
      wc.clients.push(client);
      wc.watchers.push(watcher);
      wc.members.push(record);
    }
    return wc;
  }

  /** Waits (bounded) until every member's watcher has caught up to `revision`. */
  async waitCaughtUp(revision: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
      if (this.members.every((m) => m.lastRevision >= revision)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.members.every((m) => m.lastRevision >= revision);
  }

  /** Compares every member's record with the committed history (key -> revisions). */
  compare(committed: Map<string, number[]>): WatchCheckResult {
    const problems: string[] = [];
    let eventsChecked = 0;
    for (const m of this.members) {
      const keys = new Set([...committed.keys(), ...m.seen.keys()]);
      for (const key of [...keys].sort()) {
        const want = committed.get(key) ?? [];
        const got = m.seen.get(key) ?? [];
        eventsChecked += got.length;
        if (want.length !== got.length || want.some((r, i) => r !== got[i])) {
          problems.push(`${m.member} ${key}: ${describeDifference(want, got)}`);
        }
      }
    }
    return { ok: problems.length === 0, problems, eventsChecked };
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => undefined)));
    for (const c of this.clients) c.close();
  }
}

/**
 * Where a watcher started at `startRevision` must resume: just after the
 * newest event it received (events arrive in revision order), or where it
 * started if none arrived yet.
 */
export function resumeRevision(startRevision: number, lastEventRevision: number): number {
  return Math.max(startRevision, lastEventRevision + 1);
}

/** Reads the committed history of `prefix` after `startRevision` from one member: key -> revisions. */
export async function committedHistory(endpoint: string, prefix: string, startRevision: number, untilRevision: number, timeoutMs: number): Promise<Map<string, number[]>> {
  const wc = await WatchCheck.start({ oracle: endpoint }, prefix, startRevision);
  try {
    if (!(await wc.waitCaughtUp(untilRevision, timeoutMs))) throw new Error(`history of ${prefix} not read up to revision ${untilRevision} within ${timeoutMs} ms`);
    return wc.members[0]!.seen;
  } finally {
    await wc.stop();
  }
}

function describeDifference(want: number[], got: number[]): string {
  const gotSet = new Set<number>();
  const dups = got.filter((r) => (gotSet.has(r) ? true : (gotSet.add(r), false)));
  const missing = want.filter((r) => !gotSet.has(r));
  const extra = got.filter((r) => !want.includes(r));
  const outOfOrder = got.some((r, i) => i > 0 && r < got[i - 1]!);
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.slice(0, 5).join(',')}${missing.length > 5 ? '…' : ''}`);
  if (dups.length) parts.push(`duplicated ${dups.slice(0, 5).join(',')}`);
  if (extra.length) parts.push(`never committed ${extra.slice(0, 5).join(',')}`);
  if (outOfOrder) parts.push('out of order');
  return parts.join('; ') || `expected ${want.length} events, got ${got.length}`;
}
