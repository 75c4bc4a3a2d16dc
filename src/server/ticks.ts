// How wall-clock timings map onto Raft ticks.
//
// etcd ticks once per heartbeat interval, so an election timeout of 1000 ms over
// a 100 ms heartbeat is randomized over only ten slots: two followers of a dead
// leader time out in the same tick one time in ten, split the vote, and wait out a
// second full timeout (one 30-minute chaos run saw a 5 s recovery this way).
// Ticking several times per heartbeat keeps etcd's timings (heartbeats every
// --heartbeat-interval, elections after a random [e, 2e) of --election-timeout)
// while spreading the random timeouts over many more slots.

/**
 * The shortest tick worth a timer. Each wake-up of an idle process is dear on
 * these VMs: a bare node process with a 10 ms interval timer uses 19 ms of CPU
 * per second, with 25 ms 7 ms. At 10 ms, ticks were a third of an idle member's
 * CPU. 25 ms still gives 40 slots for etcd's default election timeout, four
 * times etcd's 10.
 */
const MIN_TICK_MS = 25;
/** At most this many ticks per heartbeat interval. */
const MAX_TICKS_PER_HEARTBEAT = 10;

export interface TickConfig {
  /** Milliseconds between calls to RawNode.tick(). */
  tickMs: number;
  heartbeatTick: number;
  electionTick: number;
}

export function tickConfig(heartbeatMs: number, electionMs: number): TickConfig {
  const perHeartbeat = Math.max(1, Math.min(MAX_TICKS_PER_HEARTBEAT, Math.floor(heartbeatMs / MIN_TICK_MS)));
  const tickMs = heartbeatMs / perHeartbeat;
  const electionTick = Math.max(perHeartbeat + 1, Math.round(electionMs / tickMs));
  return { tickMs, heartbeatTick: perHeartbeat, electionTick };
}
