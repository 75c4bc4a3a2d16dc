// Answers of two servers made comparable for differential tests: Buffers as
// latin1 text, the top-level header reduced to its revision (ids and terms
// differ between any two clusters), and whatever else a test says differs.

export interface NormalizeOptions {
  /** A field's replacement, or undefined to normalize it as usual (nested headers are compared whole). */
  field?: (key: string, value: unknown) => unknown;
  /** Rewrites every string (ids to role names, say). */
  text?: (s: string) => string;
}

export function normalizeAnswer(v: unknown, opts: NormalizeOptions = {}, top = true): unknown {
  if (Array.isArray(v)) return v.map((x) => normalizeAnswer(x, opts, false));
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (typeof v === 'string') return opts.text ? opts.text(v) : v;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (top && k === 'header' && x && typeof x === 'object') {
        out[k] = { revision: (x as Record<string, unknown>)['revision'] };
        continue;
      }
      const replaced = opts.field?.(k, x);
      out[k] = replaced !== undefined ? replaced : normalizeAnswer(x, opts, false);
    }
    return out;
  }
  return v;
}
