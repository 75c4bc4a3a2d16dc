// The nearest-rank percentile of an ascending list: the value below which a
// fraction `q` of the samples fall, always one of the samples (never an
// interpolation), as the bench's histogram reports them. Used wherever a run
// keeps its samples whole: the timeline's marks, the watch lag, the chaos
// failover's recovery times.

/** `q` in [0, 1]; NaN for an empty list. */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
