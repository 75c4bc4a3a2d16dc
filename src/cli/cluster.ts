// `npm run cluster`: starts every member of a cluster definition as a local
// process, prefixes each log line with the member's name, and stops them all on
// Ctrl-C (SIGINT) or SIGTERM.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { memberArgs, parseClusterDef } from './cluster-def';
import { MEMBER_NODE_FLAGS } from './gc-tuning';

const STOP_GRACE_MS = 10_000;

function main(): void {
  // The 3-member local definition unless another is named.
  const file = process.argv[2] ?? path.resolve(__dirname, '..', '..', '..', 'cluster-configs', 'local-3.json');
  const def = parseClusterDef(fs.readFileSync(file, 'utf8'), file);
  const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'etcd-ts.js');
  if (def.dataRoot !== '') fs.mkdirSync(def.dataRoot, { recursive: true });

  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const width = Math.max(...def.members.map((m) => m.name.length));

  for (const m of def.members) {
    const child = spawn(process.execPath, [...MEMBER_NODE_FLAGS, bin, ...memberArgs(def, m)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(m.name, child);
    const prefix = `[${m.name.padEnd(width)}] `;
    readline.createInterface({ input: child.stdout! }).on('line', (l) => process.stdout.write(prefix + l + '\n'));
    readline.createInterface({ input: child.stderr! }).on('line', (l) => process.stderr.write(prefix + l + '\n'));
    child.on('exit', (code, signal) => {
      children.delete(m.name);
      process.stderr.write(`${prefix}exited (${signal ?? code})\n`);
      // A member that failed takes the others down, so the failure is seen; one
      // that ended cleanly (removed from the cluster by `member remove`) does not.
      if (!stopping && code !== 0) stopAll('a member exited');
      if (children.size === 0) process.exit(0);
    });
  }

  function stopAll(why: string): void {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`stopping all members: ${why}\n`);
    for (const c of children.values()) c.kill('SIGTERM');
    setTimeout(() => {
      for (const c of children.values()) c.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  }
  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  process.stderr.write(
    `started ${def.members.length} members; client endpoints: ${def.members.map((m) => `${m.host ?? def.host}:${m.clientPort}`).join(',')}\n`,
  );
}

main();
