// MemberPromote on a member that is not the leader: only the leader knows how
// far a learner has caught up, so the call goes on to the leader's client API
// (etcd forwards it over its peer port), marked so it is not forwarded again.
import * as grpc from '@grpc/grpc-js';
import { EtcdError, GrpcCode } from '../errors';
import type { NodeId } from '../raft/types';
import { idToDecimal } from '../server/identity';
import type { MemberInfo } from '../server/membership';
import { memberFromPb, type PbMember } from './cluster';
import { FORWARDED_MD } from './leader-client';
import { loadEtcdProto } from './proto';

type PromoteCall = (r: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: { members: PbMember[] }) => void) => void;

export function promoteOnLeader(target: string, id: NodeId, timeoutMs: number, token?: string): Promise<MemberInfo[]> {
  const pkg = loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject;
  const client = new (pkg['Cluster'] as grpc.ServiceClientConstructor)(target, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set(FORWARDED_MD, '1');
  if (token !== undefined) md.set('token', token);
  const promote = (client as unknown as Record<string, PromoteCall>)['MemberPromote']!;
  return new Promise<MemberInfo[]>((resolve, reject) => {
    promote.call(client, { ID: idToDecimal(id) }, md, { deadline: Date.now() + timeoutMs }, (e, v) => {
      client.close();
      if (e) reject(typeof e.code === 'number' && typeof e.details === 'string' ? new EtcdError(e.code as number as GrpcCode, e.details) : e);
      else resolve(v.members.map(memberFromPb));
    });
  });
}
