// The Cluster service. MemberList answers from this member's view of the
// membership, as etcd 3.4 does; its header carries no revision (etcd leaves 0).
// Membership changes are not supported yet and answer UNIMPLEMENTED.
import type * as grpc from '@grpc/grpc-js';
import type { MemberInfo } from '../server/membership';
import type { HeaderValues } from '../server/etcd-server';
import { idToDecimal } from '../server/identity';
import { toHeader } from './header';
import { unary } from './unary';

export interface ClusterView {
  header(): HeaderValues;
  members(): MemberInfo[];
}

export function memberToPb(m: MemberInfo): object {
  return { ID: idToDecimal(m.id), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

export function clusterService(view: ClusterView): grpc.UntypedServiceImplementation {
  return {
    MemberList: unary(() => ({ header: toHeader(view.header(), 0), members: view.members().map(memberToPb) })),
  };
}
