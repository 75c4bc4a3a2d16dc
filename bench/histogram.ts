// Latency histogram with HDR-style logarithmic buckets, so that every worker can
// record millions of samples in a fixed-size array and the main thread can merge
// them exactly (bucket-wise sums) before computing percentiles.
//
// Unit: microseconds. Values below LINEAR_LIMIT get one bucket each (exact);
// above that each power of two is split into SUB_BUCKETS equal buckets, which
// bounds the relative error of any reported percentile by 1/SUB_BUCKETS (~1.6%).

const SUB_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BITS; // 64 buckets per power of two
const LINEAR_LIMIT = SUB_BUCKETS * 2; // 0..127 µs recorded exactly
const MAX_EXPONENT = 36; // up to 2^37 µs ≈ 38 hours; anything above is clamped
export const BUCKET_COUNT = LINEAR_LIMIT + (MAX_EXPONENT - SUB_BITS) * SUB_BUCKETS;

/** Bucket index of a value in µs (non-negative; fractions are floored). */
export function bucketOf(valueUs: number): number {
  const v = Math.max(0, Math.floor(valueUs));
  if (v < LINEAR_LIMIT) return v;
  // Math.log2 is exact for powers of two, and floor() keeps it correct between them.
  const exponent = Math.floor(Math.log2(v));
  if (exponent > MAX_EXPONENT) return BUCKET_COUNT - 1; // clamp absurd values
  const shift = exponent - SUB_BITS;
  const sub = Math.floor(v / 2 ** shift) - SUB_BUCKETS; // 0..63
  return LINEAR_LIMIT + (exponent - SUB_BITS - 1) * SUB_BUCKETS + sub;
}

/** Highest value (µs) that falls into bucket `index`: reported percentiles are
 * conservative upper bounds, as HdrHistogram's highestEquivalentValue. */
export function bucketUpperBound(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const rel = index - LINEAR_LIMIT;
  const exponent = Math.floor(rel / SUB_BUCKETS) + SUB_BITS + 1;
  const sub = rel % SUB_BUCKETS;
  const shift = exponent - SUB_BITS;
  return (SUB_BUCKETS + sub + 1) * 2 ** shift - 1;
}

/** Plain-data form, cheap to postMessage between worker threads. */
export interface HistogramData {
  counts: number[];
  total: number;
  minUs: number;
  maxUs: number;
  sumUs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  total = 0;
  minUs = Infinity;
  maxUs = 0;
  sumUs = 0;

  record(valueUs: number): void {
    const i = bucketOf(valueUs);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total++;
    this.sumUs += valueUs;
    if (valueUs < this.minUs) this.minUs = valueUs;
    if (valueUs > this.maxUs) this.maxUs = valueUs; // max is exact, not bucketed
  }

  merge(other: HistogramData): void {
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = other.counts[i] ?? 0;
      if (c !== 0) this.counts[i] = (this.counts[i] ?? 0) + c;
    }
    this.total += other.total;
    this.sumUs += other.sumUs;
    this.minUs = Math.min(this.minUs, other.minUs);
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** Value (µs) at or below which `p` percent of samples fall (0 < p <= 100). */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(bucketUpperBound(i), this.maxUs);
    }
    return this.maxUs;
  }

  meanUs(): number {
    return this.total === 0 ? 0 : this.sumUs / this.total;
  }

  toData(): HistogramData {
    return { counts: Array.from(this.counts), total: this.total, minUs: this.minUs, maxUs: this.maxUs, sumUs: this.sumUs };
  }

  static fromData(d: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(d);
    return h;
  }
}
