// How the member's V8 heap grows. V8's own heuristics, tuned for browsers, let
// a single member with ~60 MB of live data at 100,000 keys reach 448 MB of RSS
// after 40,000 puts from 1,000 clients, 3.7x its live heap.
// A member now grows its heap by 100% over the live size after each full
// collection, the policy of Go's default GOGC=100 that etcd itself runs with.
// Measured at 100,000 keys, 3 members, 100 clients putting (CPU per put, all
// members; peak RSS of the worst member over a whole `npm run bench`):
//   30%: 349 µs, 369 MB   60%: 297 µs   100%: 247 µs, 472 MB   V8's own: 208 µs
// Tighter growth keeps RSS near etcd's but costs a third more CPU per write in
// full collections. The flag is read by V8 at every collection, so it takes
// effect when set at startup; a --heap-growing-percent given to node wins
// (e.g. `node --heap-growing-percent=30 bin/etcd-ts.js ...` for a small box).

import * as v8 from 'node:v8';

export const HEAP_GROWING_PERCENT = 100;

/**
 * V8 flags a member is started with; they size the heap when node starts, so
 * they cannot be set from inside (bin/etcd-ts.js carries them in its #! line,
 * and every launcher here passes them to node). A young generation of 8 MB
 * semi-spaces instead of node's 16: in-flight requests are what survives a
 * scavenge, and a smaller nursery holds fewer of them at a time. With the
 * shorter in-memory Raft log (MEMORY_LOG_ENTRIES), 3 members at 100k keys, two
 * alternating pairs: leader peak RSS 305-306 -> 244-246 MB, followers 235-237
 * -> 213-220 MB; cluster CPU per put-100 432-433 -> 442-450 us, per get
 * 201-207 -> 197-218 us.
 *
 * And V8's garbage collection on the main thread alone (--single-threaded-gc):
 * its helper threads (parallel scavenges, concurrent marking) only took CPU
 * from the other members and the clients on the same cores, and each wake-up
 * of one costs a context switch. Alternating runs of 3 members, one client
 * putting, cluster CPU per put: 1,754 -> 1,654 us (five pairs) and 1,612 ->
 * 1,586 (six pairs); 100 clients putting (three pairs): 186 -> 172 us,
 * 4,928 -> 5,213 puts/s.
 */
export const MEMBER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--single-threaded-gc'];

/** The V8 flag to set, or null when node was started with its own. */
export function heapGrowingFlag(execArgv: readonly string[]): string | null {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return null;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

export function tuneGc(execArgv: readonly string[] = process.execArgv): void {
  const flag = heapGrowingFlag(execArgv);
  if (flag) v8.setFlagsFromString(flag);
}
