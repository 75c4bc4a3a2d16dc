// Shapes of what a comparison run produces; shared by the runner, the table, the
// chart and the JSON file so they cannot drift apart.

import type { MemoryUse, SystemName } from './cluster';
import type { LoadResult } from './loadgen';
import type { Target } from './workloads';
import type { WatchResult } from './watch-load';

export interface SystemRun {
  system: SystemName;
  /** Why this system has no figures (binary missing, cluster never healthy, --skip-*). */
  skipped?: string;
  /** Why the run of this system stopped early (a member died, no leader); figures so far are kept. */
  error?: string;
  workloads: Record<string, Partial<Record<Target, LoadResult>>>;
  /** The unmeasured run before each phase (see --warmup): a cold server's figures. */
  warmup?: Record<string, Partial<Record<Target, LoadResult>>>;
  /** Memory of each member right after loading the pre-populated keys. */
  memoryAtKeys?: { keys: number; members: (MemoryUse | null)[] };
  /** VmHWM/VmRSS of each member at the end of the run. */
  peak: (MemoryUse | null)[];
  /** The watch load: 1,000 watchers on one prefix while 100 clients write. */
  watch?: WatchResult;
}

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memTotalMB: number;
  disk: string;
  kernel: string;
  node: string;
  etcdVersion: string;
  /** 1-minute load average when the run started and ended: other users of the
   * machine show up here, and figures from a busy box are not comparable. */
  loadAvgStart: number;
  loadAvgEnd: number;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  options: { quick: boolean; total: number | null; only: string | null; populateKeys: number; client?: string; etcdFrom?: string | null; warmupS?: number };
  workloads: { name: string; title: string; conns: number; clients: number; total: number }[];
  runs: Partial<Record<SystemName, SystemRun>>;
}
