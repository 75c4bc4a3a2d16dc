// The Lease service: int64 ids as decimal strings on the wire, bigint inside.
// KeepAlive answers every request on the stream in order; an unknown lease is
// TTL 0, not an error; any other error ends the stream with its status (as
// etcd's v3rpc/lease.go does, and clients then retry on a new stream).
import type * as grpc from '@grpc/grpc-js';
import type { HeaderValues } from '../server/etcd-server';
import type { LeaseServer } from '../server/lease-server';
import { FORWARDED_MD } from './leader-client';
import { toHeader } from './header';
import { statusOf, unary } from './unary';
import type { AuthGate } from '../auth/auth-gate';
import { tokenOf } from './call-token';

type Id = { ID?: string | number };
const big = (s: string | number | undefined | null): bigint => (s === undefined || s === null || s === '' ? 0n : BigInt(s));

/**
 * `auth`: who calls, from the call's token (an unknown token fails the call);
 * LeaseRevoke carries the caller so members check, at apply, that it may write
 * every key of the lease.
 */
export function leaseService(leases: LeaseServer, header: () => HeaderValues, auth?: AuthGate): grpc.UntypedServiceImplementation {
  const forwarded = (md: grpc.Metadata) => md.get(FORWARDED_MD).length > 0;
  const caller = async (md: grpc.Metadata) => {
    const pending = auth?.identify(tokenOf(md));
    return pending && auth?.author(await pending);
  };
  return {
    LeaseGrant: unary(async (req: Id & { TTL?: string }, call) => {
      await caller(call.metadata);
      const r = await leases.grant(big(req.ID), Number(req.TTL ?? 0));
      return { header: toHeader(header(), r.revision), ID: r.id.toString(), TTL: r.ttl };
    }),
    LeaseRevoke: unary(async (req: Id, call) => {
      const r = await leases.revoke(big(req.ID), await caller(call.metadata));
      return { header: toHeader(header(), r.revision) };
    }),
    LeaseTimeToLive: unary(async (req: Id & { keys?: boolean }, call) => {
      const id = big(req.ID);
      const r = await leases.timeToLive(id, !!req.keys, forwarded(call.metadata));
      return { header: toHeader(header()), ID: id.toString(), TTL: r.ttl, grantedTTL: r.grantedTtl, keys: r.keys };
    }),
    LeaseLeases: unary(() => ({ header: toHeader(header()), leases: leases.leases().map((id) => ({ ID: id.toString() })) })),
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<Id, object>) => {
      const fwd = forwarded(call.metadata);
      let open = true;
      // Renewals are answered in request order: chain them.
      let chain: Promise<void> = Promise.resolve();
      const end = () => {
        open = false;
      };
      call.on('cancelled', end);
      call.on('error', end);
      call.on('close', end);
      call.on('end', () => {
        chain.then(() => {
          if (open) call.end();
          open = false;
        });
      });
      call.on('data', (req: Id) => {
        const id = big(req.ID);
        chain = chain.then(async () => {
          if (!open) return;
          try {
            const ttl = await leases.keepAlive(id, fwd);
            if (open) call.write({ header: toHeader(header()), ID: id.toString(), TTL: ttl });
          } catch (err) {
            if (!open) return;
            open = false;
            call.emit('error', statusOf(err));
          }
        });
      });
    },
  };
}
