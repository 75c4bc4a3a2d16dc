// The Cluster service: MemberList answers from this member's view of the
// membership, as etcd 3.4 does; MemberAdd, MemberRemove, MemberUpdate and
// MemberPromote go through Raft (server/cluster-changes.ts). As in etcd, the
// headers carry no revision.
import type * as grpc from '@grpc/grpc-js';
import type { MemberInfo } from '../server/membership';
import type { HeaderValues } from '../server/etcd-server';
import type { ClusterChanges } from '../server/cluster-changes';
import { idFromDecimal, idToDecimal } from '../server/identity';
import { toHeader } from './header';
import { unary } from './unary';
import { FORWARDED_MD } from './leader-client';
import { tokenOf } from './call-token';

export interface ClusterView {
  header(): HeaderValues;
  members(): MemberInfo[];
  changes: ClusterChanges;
  /** With auth on, membership changes need an admin's token (throws otherwise). */
  requireAdmin?(token: string | undefined): Promise<void>;
}

export interface PbMember {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export function memberToPb(m: MemberInfo): PbMember {
  return { ID: idToDecimal(m.id), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

export function memberFromPb(m: PbMember): MemberInfo {
  return { id: idFromDecimal(m.ID), name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs, isLearner: m.isLearner };
}

export function clusterService(view: ClusterView): grpc.UntypedServiceImplementation {
  const header = (): ReturnType<typeof toHeader> => toHeader(view.header(), 0);
  return {
    MemberList: unary(() => ({ header: header(), members: view.members().map(memberToPb) })),
    MemberAdd: unary(async (req: { peerURLs: string[]; isLearner: boolean }, call) => {
      await view.requireAdmin?.(tokenOf(call.metadata));
      const { member, members } = await view.changes.add(req.peerURLs, req.isLearner);
      return { header: header(), member: { ID: idToDecimal(member.id), peerURLs: member.peerUrls, isLearner: member.isLearner }, members: members.map(memberToPb) };
    }),
    MemberRemove: unary(async (req: { ID: string }, call) => {
      await view.requireAdmin?.(tokenOf(call.metadata));
      const members = await view.changes.remove(idFromDecimal(req.ID));
      return { header: header(), members: members.map(memberToPb) };
    }),
    MemberUpdate: unary(async (req: { ID: string; peerURLs: string[] }, call) => {
      await view.requireAdmin?.(tokenOf(call.metadata));
      const members = await view.changes.update(idFromDecimal(req.ID), req.peerURLs);
      return { header: header(), members: members.map(memberToPb) };
    }),
    MemberPromote: unary(async (req: { ID: string }, call) => {
      const token = tokenOf(call.metadata);
      await view.requireAdmin?.(token);
      const forwarded = call.metadata.get(FORWARDED_MD).length > 0;
      const members = await view.changes.promote(idFromDecimal(req.ID), forwarded, token);
      return { header: header(), members: members.map(memberToPb) };
    }),
  };
}
