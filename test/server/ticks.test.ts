import { describe, expect, it } from 'vitest';
import { tickConfig } from '../../src/server/ticks';

describe('tickConfig', () => {
  it("keeps etcd's default timings with ten ticks per heartbeat", () => {
    const t = tickConfig(100, 1000);
    expect(t).toEqual({ tickMs: 10, heartbeatTick: 10, electionTick: 100 });
    // Heartbeats every 100 ms and a minimum election timeout of 1000 ms, as etcd.
    expect(t.tickMs * t.heartbeatTick).toBe(100);
    expect(t.tickMs * t.electionTick).toBe(1000);
  });

  it('never ticks faster than every 10 ms', () => {
    expect(tickConfig(50, 500)).toEqual({ tickMs: 10, heartbeatTick: 5, electionTick: 50 });
    expect(tickConfig(10, 100)).toEqual({ tickMs: 10, heartbeatTick: 1, electionTick: 10 });
    expect(tickConfig(5, 25)).toEqual({ tickMs: 5, heartbeatTick: 1, electionTick: 5 });
  });

  it('keeps the election timeout longer than the heartbeat', () => {
    const t = tickConfig(300, 300);
    expect(t.electionTick).toBeGreaterThan(t.heartbeatTick);
  });
});
