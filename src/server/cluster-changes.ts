// Membership changes a client asks for (etcd's Cluster service): checked as
// etcd 3.4 checks them before proposing, with its strict reconfiguration
// checks (on by default), proposed as Raft conf changes that carry the member
// (conf-context.ts), and answered with the member list once applied here.
import { Errors } from '../errors';
import { ConfChangeType, type NodeId } from '../raft/types';
import type { Status } from '../raft/status';
import type { MemberInfo, Membership } from './membership';
import { memberId } from './identity';

/** etcd's HealthInterval: a peer counts as connected once its stream has been up this long. */
export const HEALTH_INTERVAL_MS = 5000;
/** etcd allows one learner at a time. */
const MAX_LEARNERS = 1;
/** A learner may be promoted once it holds 90% of the leader's log. */
const LEARNER_READY = 0.9;

export interface ClusterChangeDeps {
  selfId: NodeId;
  membership: Membership;
  /** Raft's status (progress only on the leader). */
  status(): Status;
  /** When the stream to a peer came up; undefined while it is down. */
  activeSince(id: NodeId): Date | undefined;
  /** Proposes a conf change for `member` and resolves with the member list once it is applied. */
  propose(type: ConfChangeType, member: MemberInfo, promote: boolean): Promise<MemberInfo[]>;
  /** MemberPromote on the leader (this member is not it), with the caller's auth token. */
  forwardPromote(id: NodeId, token?: string): Promise<MemberInfo[]>;
  now?: () => number;
}

/** etcd's types.NewURLs: http(s) URLs with host:port and no path, sorted; anything else is "invalid". */
export function parseMemberUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw Errors.MemberBadURLs;
  const out: string[] = [];
  for (const raw of urls) {
    const text = raw.trim();
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw Errors.MemberBadURLs;
    }
    // Any path, even a lone "/", is refused (Go's url.Parse keeps it as the path).
    const hasPath = text.slice(text.indexOf('//') + 2).includes('/');
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.port === '' || hasPath) throw Errors.MemberBadURLs;
    out.push(`${u.protocol}//${u.host}`);
  }
  return out.sort();
}

export class ClusterChanges {
  constructor(private readonly d: ClusterChangeDeps) {}

  private now(): number {
    return this.d.now?.() ?? Date.now();
  }

  private voters(): MemberInfo[] {
    return this.d.membership.list().filter((m) => !m.isLearner);
  }

  /** Peers (self excluded) whose stream has been up for a health interval. */
  private connectedFully(id: NodeId): boolean {
    const since = this.d.activeSince(id);
    return since !== undefined && since.getTime() <= this.now() - HEALTH_INTERVAL_MS;
  }

  async add(peerUrls: string[], isLearner: boolean): Promise<{ member: MemberInfo; members: MemberInfo[] }> {
    const urls = parseMemberUrls(peerUrls);
    // etcd's order: the strict reconfiguration checks, then (at apply, here
    // before proposing) a peer URL in use, then the learner limit.
    const voters = this.voters();
    if (!isLearner) {
      // A quorum of the grown cluster must have started (published a name); one
      // started member adding a second is the exception.
      const started = voters.filter((m) => m.name !== '').length;
      const total = voters.length + 1;
      if (!(started === 1 && total === 2) && started < Math.floor(total / 2) + 1) throw Errors.MemberNotEnoughStarted;
    }
    if (voters.some((m) => m.id !== this.d.selfId && !this.connectedFully(m.id))) throw Errors.Unhealthy;
    if (this.d.membership.withPeerUrl(urls)) throw Errors.PeerURLExist;
    if (isLearner && this.d.membership.list().filter((m) => m.isLearner).length >= MAX_LEARNERS) throw Errors.TooManyLearners;
    const id = memberId(urls, '', Math.floor(this.now() / 1000));
    if (this.d.membership.get(id)) throw Errors.MemberExist;
    const member: MemberInfo = { id, name: '', peerUrls: urls, clientUrls: [], isLearner };
    const members = await this.d.propose(isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, member, false);
    return { member, members };
  }

  async remove(id: NodeId): Promise<MemberInfo[]> {
    const member = this.d.membership.get(id);
    if (member && !member.isLearner) {
      const others = this.voters().filter((m) => m.id !== id);
      const started = others.filter((m) => m.name !== '').length;
      if (started < Math.floor(others.length / 2) + 1) throw Errors.MemberNotEnoughStarted;
      // A member that is down is not part of the active quorum: safe to remove.
      if (id === this.d.selfId || this.d.activeSince(id) !== undefined) {
        const voters = this.voters();
        const active = 1 + voters.filter((m) => m.id !== this.d.selfId && this.connectedFully(m.id)).length;
        if (active - 1 < 1 + Math.floor((voters.length - 1) / 2)) throw Errors.Unhealthy;
      }
    }
    if (!member) throw Errors.MemberNotFound;
    return this.d.propose(ConfChangeType.RemoveNode, member, false);
  }

  async update(id: NodeId, peerUrls: string[]): Promise<MemberInfo[]> {
    const urls = parseMemberUrls(peerUrls);
    const member = this.d.membership.get(id);
    if (!member) throw Errors.MemberNotFound;
    if (this.d.membership.withPeerUrl(urls, id)) throw Errors.PeerURLExist;
    return this.d.propose(ConfChangeType.UpdateNode, { ...member, peerUrls: urls }, false);
  }

  /** `forwarded`: the call came from another member; it is not passed on again. */
  async promote(id: NodeId, forwarded = false, token?: string): Promise<MemberInfo[]> {
    const status = this.d.status();
    // Only the leader knows how far the learner has caught up.
    if (!status.progress) {
      if (forwarded) throw Errors.NotLeader;
      return this.d.forwardPromote(id, token);
    }
    const learner = status.progress.get(id);
    const leader = status.progress.get(status.id);
    if (learner && leader && learner.match < leader.match * LEARNER_READY) throw Errors.LearnerNotReady;
    // The learner counts as started, towards the quorum it will be part of.
    const voters = this.voters();
    const started = voters.filter((m) => m.name !== '').length + 1;
    if (started < Math.floor((voters.length + 1) / 2) + 1) throw Errors.MemberNotEnoughStarted;
    const member = this.d.membership.get(id);
    if (!member) throw Errors.MemberNotFound;
    if (!member.isLearner) throw Errors.MemberNotLearner;
    return this.d.propose(ConfChangeType.AddNode, { ...member, isLearner: false }, true);
  }
}
