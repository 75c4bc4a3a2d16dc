// What a member puts into the context of a conf change entry it proposes for a
// client (MemberAdd, MemberRemove, MemberUpdate, MemberPromote): the request to
// answer once the entry is applied, and the member as the change leaves it, so
// every member applies the same attributes. Raft itself ignores the context.
// The entries a new cluster bootstraps with carry none.
import { decode, encode } from './codec';
import type { MemberInfo } from './membership';
import type { RequestId } from './wait';

export interface ConfContext {
  request: RequestId;
  member: MemberInfo;
  /** An AddNode that promotes an existing learner. */
  promote: boolean;
}

type Wire = [origin: string, nonce: number, seq: number, member: MemberInfo, promote: boolean];

export function encodeConfContext(c: ConfContext): Uint8Array {
  const wire: Wire = [c.request.origin, c.request.nonce, c.request.seq, c.member, c.promote];
  return Buffer.from(encode(wire));
}

export function decodeConfContext(data: Uint8Array): ConfContext | undefined {
  if (data.length === 0) return undefined;
  const [origin, nonce, seq, member, promote] = decode<Wire>(data);
  return { request: { origin, nonce, seq }, member, promote };
}
