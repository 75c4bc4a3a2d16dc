// Whether a txn can be served on the read path (etcd's isTxnReadonly): no
// put or delete in either branch, nested txns included.

import type { TxnRequest } from './types';

export function isTxnReadOnly(t: TxnRequest): boolean {
  for (const op of [...t.success, ...t.failure]) {
    if (op.requestPut || op.requestDeleteRange) return false;
    if (op.requestTxn && !isTxnReadOnly(op.requestTxn)) return false;
  }
  return true;
}
