// Leadership transfer on request (Maintenance.MoveLeader, `etcdctl move-leader`):
// only the leader takes it; Raft catches the target up, tells it to campaign at
// once (MsgTimeoutNow), and the call returns when this member sees the target
// lead. As etcd, the wait is bounded by the caller's deadline, and here also
// by the request timeout, so a transfer Raft abandons does not hold a call open.
import { Errors } from '../errors';
import type { NodeId } from '../raft/types';
import type { RawNode } from '../raft/rawnode';
import { idFromDecimal } from './identity';
import type { Membership } from './membership';

export interface LeaderTransferView {
  readonly selfId: NodeId;
  leader(): NodeId;
  withNode(fn: (n: RawNode) => void): void;
  membership: Membership;
  /** How often to look whether the target leads (etcd: one heartbeat tick). */
  pollMs: number;
  timeoutMs: number;
}

export async function moveLeader(view: LeaderTransferView, targetDecimal: string, deadline = Infinity): Promise<void> {
  if (view.leader() !== view.selfId) throw Errors.NotLeader;
  const target = targetDecimal === '0' ? undefined : idFromDecimal(targetDecimal);
  const member = target === undefined ? undefined : view.membership.get(target);
  if (!target || !member || member.isLearner) throw Errors.BadLeaderTransferee;
  view.withNode((n) => n.transferLeader(target));
  const until = Math.min(deadline, Date.now() + view.timeoutMs);
  for (let polls = 0; view.leader() !== target; polls++) {
    if (Date.now() >= until || polls > 100_000) throw Errors.TimeoutLeaderTransfer;
    await new Promise((r) => setTimeout(r, view.pollMs));
  }
}
