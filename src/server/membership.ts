// The cluster's members as etcd's Cluster service reports them: id, name, peer
// and client URLs, learner or voter. Names and client URLs are learned when each
// member publishes its attributes through Raft after it starts, as in etcd, so
// every member reports the same list.
import type { NodeId } from '../raft/types';
import type { ClusterMember } from '../cli/config';
import { memberId } from './identity';

export interface MemberInfo {
  id: NodeId;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface MemberAttributes {
  name: string;
  clientUrls: string[];
}

export class Membership {
  private readonly members = new Map<NodeId, MemberInfo>();

  constructor(members: MemberInfo[] = []) {
    for (const m of members) this.members.set(m.id, { ...m });
  }

  /** The bootstrap membership of a new cluster: names known, client URLs not yet published. */
  static fromInitialCluster(initial: readonly ClusterMember[], token: string): Membership {
    return new Membership(
      initial.map((m) => ({ id: memberId(m.peerUrls, token), name: '', peerUrls: [...m.peerUrls].sort(), clientUrls: [], isLearner: false })),
    );
  }

  list(): MemberInfo[] {
    return [...this.members.values()].sort((a, b) => (BigInt('0x' + a.id) < BigInt('0x' + b.id) ? -1 : 1));
  }

  get(id: NodeId): MemberInfo | undefined {
    return this.members.get(id);
  }

  ids(): NodeId[] {
    return this.list().map((m) => m.id);
  }

  /** Applies a published attributes record; returns whether anything changed. */
  publish(id: NodeId, attrs: MemberAttributes): boolean {
    const m = this.members.get(id);
    if (!m) return false;
    const same = m.name === attrs.name && m.clientUrls.join(',') === attrs.clientUrls.join(',');
    if (same) return false;
    m.name = attrs.name;
    m.clientUrls = [...attrs.clientUrls];
    return true;
  }

  // Changes applied from committed conf change entries. Each is idempotent: a
  // member restarting replays the entries after its last snapshot over the list
  // it saved last, which already holds their effect.

  /** Adds a member (voter or learner) unless it is already there; returns whether anything changed. */
  add(m: MemberInfo): boolean {
    if (this.members.has(m.id)) return false;
    this.members.set(m.id, { ...m, peerUrls: [...m.peerUrls].sort(), clientUrls: [...m.clientUrls] });
    return true;
  }

  remove(id: NodeId): boolean {
    return this.members.delete(id);
  }

  /** New peer URLs for a member (MemberUpdate). */
  updatePeerUrls(id: NodeId, peerUrls: string[]): boolean {
    const m = this.members.get(id);
    const sorted = [...peerUrls].sort();
    if (!m || m.peerUrls.join(',') === sorted.join(',')) return false;
    m.peerUrls = sorted;
    return true;
  }

  /** A learner becomes a voter (MemberPromote). */
  promote(id: NodeId): boolean {
    const m = this.members.get(id);
    if (!m || !m.isLearner) return false;
    m.isLearner = false;
    return true;
  }

  /** The member, if any, that advertises one of these peer URLs (other than `except`). */
  withPeerUrl(urls: readonly string[], except?: NodeId): MemberInfo | undefined {
    return this.list().find((m) => m.id !== except && m.peerUrls.some((u) => urls.includes(u)));
  }

  /** Replaces the whole list, as when a snapshot from the leader is installed. */
  replace(members: MemberInfo[]): void {
    this.members.clear();
    for (const m of members) this.members.set(m.id, { ...m });
  }

  toJSON(): MemberInfo[] {
    return this.list();
  }
}
