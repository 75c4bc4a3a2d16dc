// ResponseHeader as etcd fills it: uint64 ids as decimal strings on the wire.
import type { HeaderValues } from '../server/etcd-server';
import { idToDecimal } from '../server/identity';
import type * as pb from './pb';

export function toHeader(h: HeaderValues, revision = h.revision): pb.ResponseHeader {
  return {
    cluster_id: idToDecimal(h.clusterId),
    member_id: idToDecimal(h.memberId),
    revision,
    raft_term: h.raftTerm,
  };
}
