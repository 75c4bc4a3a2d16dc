// Joining a running cluster: a member started with --initial-cluster-state=
// existing and an empty data dir was added beforehand (MemberAdd), which gave
// it an id the flags cannot derive. As etcd does, it asks the other members
// named in --initial-cluster (on their peer URLs) for the cluster id and member
// list, and finds itself in that list by its advertised peer URLs.
import type { MemberConfig } from '../cli/config';
import type { Logger } from '../log';
import type { NodeId } from '../raft/types';
import { queryMembers } from '../transport/members-query';
import type { MemberInfo } from './membership';

export class JoinError extends Error {}

export interface JoinedCluster {
  selfId: NodeId;
  clusterId: NodeId;
  members: MemberInfo[];
}

/** What a Members query is answered with. */
export interface MembersAnswer {
  clusterId: NodeId;
  members: MemberInfo[];
}

const normalize = (u: string): string => {
  const x = new URL(u);
  return `${x.protocol}//${x.host}`;
};
const sameUrls = (a: readonly string[], b: readonly string[]): boolean =>
  a.map(normalize).sort().join(',') === b.map(normalize).sort().join(',');

function isAnswer(v: unknown): v is MembersAnswer {
  const a = v as MembersAnswer;
  return !!a && typeof a.clusterId === 'string' && Array.isArray(a.members) && a.members.every((m) => typeof m.id === 'string' && Array.isArray(m.peerUrls));
}

/** Asks each other member in turn, for up to `timeoutMs` in all. */
export async function joinCluster(config: MemberConfig, logger: Logger, timeoutMs = 10_000): Promise<JoinedCluster> {
  const own = config.initialAdvertisePeerUrls.map(normalize);
  const urls = config.initialCluster.flatMap((m) => m.peerUrls).filter((u) => !own.includes(normalize(u)));
  if (urls.length === 0) {
    throw new JoinError('--initial-cluster-state=existing: --initial-cluster names no other member to ask for the cluster (etcd-ts joins a running cluster that added this member with MemberAdd)');
  }
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    const url = urls[attempt % urls.length]!;
    try {
      const answer = await queryMembers(config.peerUrlOverrides.get(url) ?? url, Math.max(100, Math.min(2000, deadline - Date.now())));
      if (!isAnswer(answer)) throw new Error(`${url} answered something that is not a member list`);
      const me = answer.members.find((m) => sameUrls(m.peerUrls, own));
      if (!me) {
        throw new JoinError(
          `no member of cluster ${answer.clusterId} has peer URLs ${own.join(',')}: add this member first (etcdctl member add ${config.name} --peer-urls=${own.join(',')})`,
        );
      }
      logger.info({ clusterId: answer.clusterId, memberId: me.id, from: url }, 'joining an existing cluster');
      return { selfId: me.id, clusterId: answer.clusterId, members: answer.members };
    } catch (e) {
      if (e instanceof JoinError) throw e;
      lastErr = (e as Error).message;
      if (attempt % urls.length === urls.length - 1) await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new JoinError(`cannot fetch the cluster's members from the peer URLs ${urls.join(',')}: ${lastErr}`);
}
