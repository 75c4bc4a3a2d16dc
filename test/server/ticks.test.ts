import { describe, expect, it } from 'vitest';
import { tickConfig } from '../../src/server/ticks';

describe('tickConfig', () => {
  it("keeps etcd's default timings with four ticks per heartbeat", () => {
    const t = tickConfig(100, 1000);
    expect(t).toEqual({ tickMs: 25, heartbeatTick: 4, electionTick: 40 });
    // Heartbeats every 100 ms and a minimum election timeout of 1000 ms, as etcd.
    expect(t.tickMs * t.heartbeatTick).toBe(100);
    expect(t.tickMs * t.electionTick).toBe(1000);
  });

  it('never ticks faster than every 25 ms, unless the heartbeat interval is shorter', () => {
    expect(tickConfig(50, 500)).toEqual({ tickMs: 25, heartbeatTick: 2, electionTick: 20 });
    expect(tickConfig(1000, 10_000)).toEqual({ tickMs: 100, heartbeatTick: 10, electionTick: 100 });
    expect(tickConfig(10, 100)).toEqual({ tickMs: 10, heartbeatTick: 1, electionTick: 10 });
    expect(tickConfig(5, 25)).toEqual({ tickMs: 5, heartbeatTick: 1, electionTick: 5 });
  });

  it('keeps the election timeout longer than the heartbeat', () => {
    const t = tickConfig(300, 300);
    expect(t.electionTick).toBeGreaterThan(t.heartbeatTick);
  });
});
