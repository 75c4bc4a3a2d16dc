// A tiny deterministic cluster for scenario tests: RawNodes over MemoryStorage, a
// message queue the test can drop or cut, and a stabilize() that runs Ready rounds
// until nothing is left to do.

import { Config } from '../../src/raft/config';
import { decodeConfChange } from '../../src/raft/confchange';
import { RawNode } from '../../src/raft/rawnode';
import { MemoryStorage } from '../../src/raft/storage';
import { Entry, EntryType, Message, MessageType, NodeId, StateType } from '../../src/raft/types';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface NodeOpts extends Partial<Omit<Config, 'id' | 'storage'>> {}

export class TestCluster {
  nodes = new Map<NodeId, RawNode>();
  storages = new Map<NodeId, MemoryStorage>();
  applied = new Map<NodeId, Entry[]>();
  readStates = new Map<NodeId, { index: number; ctx: string }[]>();
  queue: Message[] = [];
  /** Return true to drop a message. */
  filter: (m: Message) => boolean = () => false;
  private cut = new Set<string>();
  private seed = 1;

  constructor(ids: NodeId[], readonly opts: NodeOpts = {}) {
    for (const id of ids) this.add(id, ids);
  }

  /** Adds a member; with peers it bootstraps a new cluster, without it joins empty. */
  add(id: NodeId, peers?: NodeId[], opts: NodeOpts = {}): RawNode {
    const storage = new MemoryStorage();
    const rn = new RawNode({
      id,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      maxInflightMsgs: 256,
      rand: this.seed++,
      ...this.opts,
      ...opts,
    });
    if (peers) rn.bootstrap(peers);
    this.nodes.set(id, rn);
    this.storages.set(id, storage);
    this.applied.set(id, []);
    this.readStates.set(id, []);
    return rn;
  }

  node(id: NodeId): RawNode {
    return this.nodes.get(id)!;
  }

  /** Runs one Ready of `id` the way a driver must: persist, then send, then apply, then advance. */
  processReady(id: NodeId): boolean {
    const rn = this.node(id);
    if (!rn.hasReady()) return false;
    const rd = rn.ready();
    const st = this.storages.get(id)!;
    if (rd.snapshot) st.applySnapshot(rd.snapshot);
    st.append(rd.entries);
    if (rd.hardState) st.setHardState(rd.hardState);
    for (const m of rd.messages) this.queue.push(m);
    for (const rs of rd.readStates) this.readStates.get(id)!.push({ index: rs.index, ctx: dec(rs.requestCtx) });
    for (const e of rd.committedEntries) {
      this.applied.get(id)!.push(e);
      if (e.type === EntryType.ConfChange) rn.applyConfChange(decodeConfChange(e.data));
    }
    rn.advance(rd);
    return true;
  }

  /** One round: every member processes its Readies, then queued messages are delivered. */
  round(): boolean {
    let busy = false;
    for (const id of this.nodes.keys()) while (this.processReady(id)) busy = true;
    const q = this.queue;
    this.queue = [];
    for (const m of q) {
      if (this.filter(m) || this.cut.has(`${m.from}>${m.to}`)) continue;
      const rn = this.nodes.get(m.to);
      if (!rn) continue;
      rn.step(m);
      busy = true;
    }
    return busy;
  }

  /** Delivers every queued message (and those they cause) until the cluster is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) if (!this.round()) return;
    throw new Error('cluster did not stabilize');
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  heal(): void {
    this.cut.clear();
    this.filter = () => false;
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).tick();
  }

  /** Elects `id` by campaigning and stabilizing. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  leaders(): NodeId[] {
    return [...this.nodes.entries()].filter(([, rn]) => rn.raft.state === StateType.Leader).map(([id]) => id);
  }

  /** Normal entries with data applied by `id`, decoded. */
  appliedData(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => dec(e.data));
  }

  sent(type: MessageType): Message[] {
    return this.queue.filter((m) => m.type === type);
  }
}
