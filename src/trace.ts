// Timestamped marks along a request's path, for bench/timeline.ts: off unless
// ETCD_TS_TRACE names a directory, where each process writes
// trace-<pid>.txt when it exits. Times are CLOCK_MONOTONIC nanoseconds
// (process.hrtime), one clock for every process on the machine, so the marks
// of all members merge into one timeline of each write: where a single
// client's put spends its time is a question no per-process profile answers.
// Call sites test `tracing` first, so a member that is not traced pays one
// branch per mark and builds no label.

import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = process.env.ETCD_TS_TRACE ?? '';

export const tracing = dir !== '';

/** Bounds the memory a forgotten trace can take (about 40 MB). */
const MAX_MARKS = 500_000;

const marks: string[] = [];

export function mark(label: string): void {
  if (marks.length < MAX_MARKS) marks.push(`${process.hrtime.bigint()} ${label}`);
}

/**
 * Writes the marks to trace-<name>.txt in the trace directory. A member does
 * it when it exits (name = its pid); the load generator's worker threads share
 * the bench's pid and call it with their own name when their run ends.
 */
export function saveTrace(name: string): void {
  if (!tracing) return;
  try {
    fs.writeFileSync(path.join(dir, `trace-${name}.txt`), marks.join('\n'));
  } catch {
    // A trace is a diagnostic: never let it change how the process exits.
  }
}

if (tracing) process.on('exit', () => saveTrace(String(process.pid)));
