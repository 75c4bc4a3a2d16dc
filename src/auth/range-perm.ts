// Whether a user's permissions cover a key or a key range, as etcd's range
// permission cache decides it: a permission is a point (no range_end), a
// range [key, range_end), or everything from key on (range_end "\0"); a
// request's range must lie within the union of the ones that grant its type.

export const READ = 0;
export const WRITE = 1;
export const READWRITE = 2;

export interface Permission {
  permType: number;
  key: Buffer;
  rangeEnd: Buffer;
}

/** A half-open interval; `end` null = no upper bound. */
interface Interval {
  start: Buffer;
  end: Buffer | null;
}

const ZERO = Buffer.from([0]);

function intervalOf(key: Buffer, rangeEnd: Buffer): Interval {
  if (rangeEnd.length === 0) return { start: key, end: Buffer.concat([key, ZERO]) };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start: key, end: null };
  return { start: key, end: rangeEnd };
}

const grants = (p: Permission, want: number): boolean => p.permType === READWRITE || p.permType === want;

/** `want` READ or WRITE; `rangeEnd` as in a request (empty = the key alone, "\0" = from key on). */
export function permits(perms: readonly Permission[], want: number, key: Buffer, rangeEnd: Buffer): boolean {
  const need = intervalOf(key, rangeEnd);
  if (need.end !== null && Buffer.compare(need.start, need.end) >= 0) return true; // an empty range asks for nothing
  const ivs = perms.filter((p) => grants(p, want)).map((p) => intervalOf(p.key, p.rangeEnd));
  ivs.sort((a, b) => Buffer.compare(a.start, b.start));
  // Walk the merged union from the start of the need.
  let covered: Buffer | null = need.start; // covered up to here (exclusive); null = to the end
  let progressed = true;
  while (progressed && covered !== null && (need.end === null || Buffer.compare(covered, need.end) < 0)) {
    progressed = false;
    for (const iv of ivs) {
      if (Buffer.compare(iv.start, covered) > 0) continue;
      if (iv.end === null) {
        covered = null;
        progressed = true;
        break;
      }
      if (Buffer.compare(iv.end, covered) > 0) {
        covered = iv.end;
        progressed = true;
      }
    }
  }
  return covered === null || (need.end !== null && Buffer.compare(covered, need.end) >= 0);
}
