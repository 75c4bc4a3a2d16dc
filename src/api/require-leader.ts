// etcd's "hasleader" metadata (clientv3.WithRequireLeader; kube-apiserver sets
// it on its watches). A call that carries it while this member knows no leader
// fails with "etcdserver: no leader" instead of waiting or being served from a
// member cut off from the cluster. Streams that carry it are also watched over:
// once the member has seen no leader for three election timeouts in a row,
// they end with the same error, so their clients move to a member that still
// has a leader (etcd's monitorLeader, which is as patient, because reopening
// streams costs more than refusing new calls).
import type * as grpc from '@grpc/grpc-js';
import type * as http2 from 'node:http2';
import { Errors } from '../errors';
import { failCall, statusOf, streamError } from './unary';

export const REQUIRE_LEADER_KEY = 'hasleader';
const REQUIRED = 'true';
/** etcd's maxNoLeaderCnt. */
export const NO_LEADER_TIMEOUTS = 3;

type Emitter = NodeJS.EventEmitter;

export class LeaderRequirement {
  private readonly streams = new Set<Emitter>();
  private timer: NodeJS.Timeout | undefined;
  private leaderlessChecks = 0;

  constructor(
    private readonly hasLeader: () => boolean,
    private readonly electionMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), this.electionMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One look per election timeout; exported for tests through start(). */
  private check(): void {
    this.leaderlessChecks = this.hasLeader() ? 0 : this.leaderlessChecks + 1;
    if (this.leaderlessChecks < NO_LEADER_TIMEOUTS) return;
    for (const call of [...this.streams]) call.emit('error', streamError(Errors.NoLeader));
    this.streams.clear();
  }

  /** For the fast path: the refusal for a call with these headers, if any. */
  refusal(headers: http2.IncomingHttpHeaders): { code: number; details: string } | undefined {
    return headers[REQUIRE_LEADER_KEY] === REQUIRED && !this.hasLeader() ? statusOf(Errors.NoLeader) : undefined;
  }

  /** grpc-js handlers that honour the metadata. */
  wrap(def: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const out: grpc.UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(handlers)) {
      const unary = !def[method]?.requestStream && !def[method]?.responseStream;
      const h = handler as (...args: unknown[]) => void;
      out[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => {
        if (call.metadata.get(REQUIRE_LEADER_KEY)[0] !== REQUIRED) return h(call, callback);
        if (!this.hasLeader()) return failCall(call, callback, Errors.NoLeader);
        if (!unary) {
          const stream = call as unknown as Emitter;
          this.streams.add(stream);
          const forget = (): void => void this.streams.delete(stream);
          stream.once('close', forget);
          stream.once('cancelled', forget);
          stream.once('finish', forget);
        }
        return h(call, callback);
      }) as grpc.UntypedHandleCall;
    }
    return out;
  }
}
