// The auth token a call carries: etcd's `token` metadata (set by clientv3,
// etcdctl --user and the etcd3 package once they have authenticated).
import type * as grpc from '@grpc/grpc-js';
import { TOKEN_KEY } from '../auth/auth-gate';

export function tokenOf(md: grpc.Metadata): string | undefined {
  const v = md.get(TOKEN_KEY)[0];
  return v === undefined ? undefined : String(v);
}
