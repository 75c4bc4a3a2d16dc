// How wall-clock timings map onto Raft ticks.
//
// etcd ticks once per heartbeat interval, so an election timeout of 1000 ms over
// a 100 ms heartbeat is randomized over only ten slots: two followers of a dead
// leader time out in the same tick one time in ten, split the vote, and wait out a
// second full timeout (one 30-minute chaos run saw a 5 s recovery this way).
// Ticking several times per heartbeat keeps etcd's timings (heartbeats every
// --heartbeat-interval, elections after a random [e, 2e) of --election-timeout)
// while spreading the random timeouts over many more slots.

/** The shortest tick worth a timer: finer ticks would only cost wake-ups. */
const MIN_TICK_MS = 10;
/** At most this many ticks per heartbeat interval (100 slots for etcd's defaults). */
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
