// Keepalives and TimeToLive need the leader's expiry clock, and must not go
// through Raft (one entry per keepalive would cost a disk write each). etcd
// forwards them over its peer HTTP port; we forward over the leader's client
// gRPC API (its published client URL), which needs no new peer message type.
// One LeaseKeepAlive stream per leader carries every forwarded renewal; the
// leader answers them in order, and answers are matched back by lease id.
// Forwarded calls carry a metadata mark so a member that is not the leader
// any more refuses them instead of forwarding again.
import * as grpc from '@grpc/grpc-js';
import { EtcdError, Errors, GrpcCode } from '../errors';
import { loadEtcdProto } from './proto';
import type { LeaderLink, TimeToLiveAnswer } from '../server/lease-server';

export const FORWARDED_MD = 'ets-forwarded';

interface Pending {
  resolve: (ttl: number) => void;
  reject: (e: unknown) => void;
}

function toEtcdError(e: unknown): unknown {
  const err = e as grpc.ServiceError;
  if (typeof err?.code === 'number' && typeof err.details === 'string') return new EtcdError(err.code as number as GrpcCode, err.details);
  return e;
}

export class LeaderClient implements LeaderLink {
  private client: grpc.Client | undefined;
  private stream: grpc.ClientDuplexStream<object, { ID: string; TTL: string }> | undefined;
  private readonly pending = new Map<string, Pending[]>();

  constructor(readonly target: string) {}

  private lease(): grpc.Client {
    if (!this.client) {
      const pkg = loadEtcdProto()['etcdserverpb'] as grpc.GrpcObject;
      const Ctor = pkg['Lease'] as grpc.ServiceClientConstructor;
      this.client = new Ctor(this.target, grpc.credentials.createInsecure());
    }
    return this.client;
  }

  private md(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set(FORWARDED_MD, '1');
    return md;
  }

  keepAlive(id: bigint, timeoutMs: number): Promise<number> {
    const s = this.openStream();
    const key = id.toString();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failStream(Errors.Timeout);
      }, timeoutMs);
      const p: Pending = {
        resolve: (ttl) => {
          clearTimeout(timer);
          resolve(ttl);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const q = this.pending.get(key) ?? [];
      q.push(p);
      this.pending.set(key, q);
      s.write({ ID: key });
    });
  }

  timeToLive(id: bigint, keys: boolean, timeoutMs: number): Promise<TimeToLiveAnswer> {
    const c = this.lease() as unknown as Record<string, (r: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: { TTL: string; grantedTTL: string; keys: Buffer[] }) => void) => void>;
    return new Promise((resolve, reject) => {
      c['LeaseTimeToLive']!.call(this.client, { ID: id.toString(), keys }, this.md(), { deadline: Date.now() + timeoutMs }, (e, v) =>
        e ? reject(toEtcdError(e)) : resolve({ ttl: Number(v.TTL), grantedTtl: Number(v.grantedTTL), keys: v.keys ?? [] }),
      );
    });
  }

  private openStream(): grpc.ClientDuplexStream<object, { ID: string; TTL: string }> {
    if (this.stream) return this.stream;
    const c = this.lease() as unknown as { LeaseKeepAlive: (md: grpc.Metadata) => grpc.ClientDuplexStream<object, { ID: string; TTL: string }> };
    const s = c.LeaseKeepAlive.call(this.client, this.md());
    this.stream = s;
    s.on('data', (r: { ID: string; TTL: string }) => {
      const q = this.pending.get(r.ID);
      const p = q?.shift();
      if (q && q.length === 0) this.pending.delete(r.ID);
      p?.resolve(Number(r.TTL));
    });
    s.on('error', (e) => {
      if (this.stream === s) this.failStream(toEtcdError(e));
    });
    s.on('end', () => {
      if (this.stream === s) this.failStream(Errors.NoLeader);
    });
    return s;
  }

  /** Drops the stream and fails everything waiting on it; the next call opens a new one. */
  private failStream(err: unknown): void {
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
    for (const q of this.pending.values()) for (const p of q) p.reject(err);
    this.pending.clear();
  }

  close(): void {
    this.failStream(Errors.Stopped);
    this.client?.close();
    this.client = undefined;
  }
}
