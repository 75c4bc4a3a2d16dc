// Structured logging: one JSON line per event, each carrying the member's name,
// so the interleaved logs of a local cluster can be told apart and filtered.
import pino from 'pino';
import type { LogLevel } from './cli/config';

export type Logger = pino.Logger;

export function createLogger(memberName: string, level: LogLevel): Logger {
  // etcd's "panic" level has no pino twin; fatal is the nearest.
  const pinoLevel = level === 'panic' ? 'fatal' : level;
  // Synchronous writes: log lines stay in order and none is lost at process.exit;
  // nothing logs per request, so the cost stays off the hot path.
  return pino({ level: pinoLevel, base: { name: memberName, pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
}
