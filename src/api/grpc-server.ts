// The client-facing gRPC server: binds every --listen-client-urls address and
// serves etcd's six services (plus gRPC health). Methods without a handler
// answer UNIMPLEMENTED, which grpc-js does for any method left out. The KV
// service's unary calls are taken before grpc-js sees them by a leaner path on
// the same HTTP/2 servers (fast-unary.ts).
import * as grpc from '@grpc/grpc-js';
import { SERVICE_NAMES, ServiceName, healthServiceDefinition, serviceDefinition } from './proto';
import type { Logger } from '../log';
import { EncodedAnswer } from './encode-kv';
import { FastUnary } from './fast-unary';
import { FAST_DECODERS } from './fast-decode';
import { guardLearner } from './learner-guard';
import type { LeaderRequirement } from './require-leader';
import type * as http2 from 'node:http2';

/** etcd's allowance for gRPC framing on top of --max-request-bytes (v3rpc/grpc.go). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export type Handlers = Partial<Record<ServiceName, grpc.UntypedServiceImplementation>>;

export interface ClientServerOptions {
  listenUrls: URL[];
  maxRequestBytes: number;
  handlers: Handlers;
  /** Unary methods also served on the fast path (fast-unary.ts), as plain functions of the request. */
  fast?: Partial<Record<ServiceName, Record<string, (req: never, token?: string) => Promise<unknown>>>>;
  /** Honours clients' "hasleader" metadata (require-leader.ts). */
  leaderRequirement?: LeaderRequirement;
  /** Whether this member is a learner (it then serves little; see learner-guard.ts). */
  isLearner?: () => boolean;
  /** Whether the member is able to serve (for the gRPC health service). */
  isServing: () => boolean;
  /**
   * Settles when the member may answer clients. Calls that arrive earlier wait
   * for it (as etcd's clients wait on a member that is not ready yet) instead of
   * being answered from state the member may not have caught up on.
   */
  ready?: Promise<void>;
  logger: Logger;
}

/**
 * The service with each response serializer taught to send a Buffer as it is
 * and to write an EncodedAnswer: handlers on hot paths answer with bytes they
 * encode themselves (encode-kv.ts). No response message is itself a Buffer or
 * an EncodedAnswer, so everything else is unchanged.
 */
export function passBuffersThrough(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [method, d] of Object.entries(def)) {
    const serialize = d.responseSerialize;
    out[method] = { ...d, responseSerialize: (value: unknown) => (value instanceof EncodedAnswer ? value.bytes() : Buffer.isBuffer(value) ? value : serialize(value)) };
  }
  return out as grpc.ServiceDefinition;
}

/** Holds every call until `ready` settles, then hands it to its handler. */
class ReadyGate {
  /** Whether `ready` has settled successfully (calls pass straight through). */
  open = false;

  constructor(private readonly ready: Promise<void>) {
    ready.then(
      () => (this.open = true),
      () => undefined,
    );
  }

  wrap(handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const out: grpc.UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(handlers)) {
      const h = handler as (...args: unknown[]) => void;
      // A streaming call's messages stay buffered in its (paused) stream until the
      // handler attaches its listeners, so nothing is lost while the call waits.
      out[method] = ((...args: unknown[]) => {
        if (this.open) h(...args);
        else void this.ready.then(() => h(...args), () => undefined);
      }) as grpc.UntypedHandleCall;
    }
    return out;
  }
}

export class ClientServer {
  private readonly server: grpc.Server;
  private readonly fast: FastUnary;
  /** HTTP/2 servers the fast path already sits in front of. */
  private readonly attached = new Set<http2.Http2Server>();
  readonly boundPorts: number[] = [];

  constructor(private readonly opts: ClientServerOptions) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': opts.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      'grpc.max_send_message_length': 2 ** 31 - 1,
      // etcd lets clients ping as often as every 5 s, with or without streams.
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5000,
      // Nothing reads grpc-js's channelz statistics; keeping them costs closures,
      // counters and Date.now() calls on every call and message.
      'grpc.enable_channelz': 0,
    });
    const gate = opts.ready ? new ReadyGate(opts.ready) : undefined;
    // Until the member is ready, calls take grpc-js's route, which holds them at the gate.
    this.fast = new FastUnary(opts.maxRequestBytes + GRPC_OVERHEAD_BYTES, () => gate?.open ?? true, (h) => opts.leaderRequirement?.refusal(h));
    for (const name of SERVICE_NAMES) {
      const def = passBuffersThrough(serviceDefinition(name));
      // As etcd's interceptors: the learner rule first, then the leader requirement.
      const given = opts.handlers[name] ?? {};
      const leadered = opts.leaderRequirement ? opts.leaderRequirement.wrap(def, given) : given;
      const handlers = opts.isLearner ? guardLearner(name, leadered, opts.isLearner) : leadered;
      this.server.addService(def, gate ? gate.wrap(handlers) : handlers);
      for (const [method, fn] of Object.entries(opts.fast?.[name] ?? {})) {
        const d = def[method];
        if (!d || d.requestStream || d.responseStream) throw new Error(`${name}.${method} is not a unary method`);
        const slow = d.requestDeserialize;
        const quick = FAST_DECODERS[d.path];
        const deserialize = quick ? (b: Buffer) => quick(b) ?? slow(b) : slow;
        this.fast.add(d.path, { deserialize, handle: fn as (req: unknown, token?: string) => Promise<unknown>, serialize: d.responseSerialize });
      }
    }
    this.server.addService(healthServiceDefinition(), {
      Check: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { status: opts.isServing() ? 'SERVING' : 'NOT_SERVING' }),
    });
  }

  async start(): Promise<void> {
    for (const url of this.opts.listenUrls) {
      const address = `${url.hostname.startsWith('[') ? url.hostname : url.hostname}:${url.port}`;
      const port = await new Promise<number>((resolve, reject) =>
        this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
      );
      this.boundPorts.push(port);
      this.attachFastPath();
      this.opts.logger.info({ address, port }, 'serving client requests');
    }
  }

  /** Calls the fast path answered (tests check it is in use). */
  get fastCalls(): number {
    return this.fast.served;
  }

  /**
   * Puts the fast path in front of each HTTP/2 server grpc-js made. grpc-js
   * has no public handle on them: they sit in a private field (the version is
   * pinned by package-lock.json, and test/wire/fast-unary.test.ts fails if the
   * field moves). Without it every call still works, through grpc-js.
   */
  private attachFastPath(): void {
    if (this.fast.size === 0) return;
    const servers = (this.server as unknown as { http2Servers?: unknown }).http2Servers;
    if (!(servers instanceof Map)) {
      this.opts.logger.warn('grpc-js keeps its HTTP/2 servers elsewhere now; serving every call through grpc-js');
      return;
    }
    for (const h of servers.keys() as IterableIterator<http2.Http2Server>) {
      if (this.attached.has(h)) continue;
      this.attached.add(h);
      this.fast.attach(h);
    }
  }

  /** Stops accepting calls; in-flight calls get a short grace period, then are cut. */
  async stop(graceMs = 2000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
