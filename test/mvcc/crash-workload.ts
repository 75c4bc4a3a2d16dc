// The deterministic workload of the crash test: the request applied at Raft
// index i depends only on (seed, i) and the revision it is applied at, so the
// test can rebuild the expected state for whatever index survived a SIGKILL.

import type { WriteRequest } from '../../src/mvcc';

/** The project's seeded generator (mulberry32), under the name these tests use. */
export { mulberry32 as rng } from '../../src/raft/prng';
import { mulberry32 as rng } from '../../src/raft/prng';

export function opFor(seed: number, index: number, rev: number): WriteRequest {
  const r = rng(seed * 1_000_003 + index);
  const int = (n: number) => Math.floor(r() * n);
  const key = () => Buffer.from(`k${int(40)}`);
  const x = int(100);
  if (x < 60) return { put: { key: key(), value: Buffer.from(`v${index}`.repeat(1 + int(4))), prevKv: true } };
  if (x < 75) return { deleteRange: { key: key(), rangeEnd: int(3) === 0 ? Buffer.from(`k${int(40)}`) : undefined } };
  if (x < 97) {
    return {
      txn: {
        compare: [{ key: key(), target: 0, result: int(4), version: int(3) }],
        success: [{ requestPut: { key: Buffer.from('t1'), value: Buffer.from(`s${index}`) } }, { requestDeleteRange: { key: key() } }],
        failure: [{ requestPut: { key: Buffer.from('t2'), value: Buffer.from(`f${index}`) } }],
      },
    };
  }
  return { compaction: { revision: Math.max(1, rev - int(20)) } };
}
