// What a member puts into a normal Raft entry: who proposed it (so only that
// member answers a client) and the operation itself. A plain Put, the one
// write every workload is full of, has a fixed binary layout (put-codec.ts);
// everything else is msgpack-encoded as a compact array. The first byte tells
// them apart, so entries written before the binary layout still decode.
import type { MemberAttributes } from './membership';
import type { WriteRequest } from '../mvcc/types';
import type { RequestId } from './wait';
import { decode, encode } from './codec';
import type { AuthInfo, AuthOp } from '../auth/auth-store';
import { PUT_TAG, decodePutProposal, encodePutProposal } from './put-codec';

export type Operation =
  /** `who`: the caller, when auth is on (etcd's request header username and auth revision). */
  | { kind: 'write'; req: WriteRequest; who?: AuthInfo }
  /** A member announcing its name and client URLs, as etcd's publish does. */
  | { kind: 'publish'; memberId: string; attrs: MemberAttributes }
  /** A lease with its final TTL (already raised to the minimum by the proposer). */
  | { kind: 'leaseGrant'; id: bigint; ttl: number }
  /** A client's revoke, or the leader's for an expired lease. */
  /** `expired`: the leader's revoke of an expired lease, which no client's permissions limit. */
  | { kind: 'leaseRevoke'; id: bigint; who?: AuthInfo; expired?: true }
  /** An Auth call (auth-store.ts), passwords already hashed. */
  | { kind: 'auth'; op: AuthOp; who?: AuthInfo }
  /** An Alarm request (GET too goes through Raft, as in etcd: it answers as of its place in the log). */
  | { kind: 'alarm'; action: number; memberId: string; alarm: number };

type Wire = [origin: string, nonce: number, seq: number, op: Operation];

export function encodeProposal(id: RequestId, op: Operation): Buffer {
  if (op.kind === 'write' && 'put' in op.req && !op.who) {
    const put = encodePutProposal(id, op.req.put);
    if (put) return put;
  }
  const wire: Wire = [id.origin, id.nonce, id.seq, op];
  // msgpackr hands back a view into its shared ~130 KB output buffer. The entry
  // lives in the in-memory Raft log for thousands of entries, and each view
  // kept a whole output buffer alive: 8 MB of them on a leader at 100,000 puts,
  // for 2.3 MB of entries. A copy packs small entries densely into node's
  // 8 KB buffer pool instead.
  return Buffer.from(encode(wire));
}

export function decodeProposal(data: Uint8Array): { id: RequestId; op: Operation } {
  if (data[0] === PUT_TAG) {
    const { id, put } = decodePutProposal(data);
    return { id, op: { kind: 'write', req: { put } } };
  }
  const [origin, nonce, seq, op] = decode<Wire>(data);
  return { id: { origin, nonce, seq }, op };
}
