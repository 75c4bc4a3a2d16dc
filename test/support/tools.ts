// External programs some tests need (Debian's etcd, etcdctl, docker-compose). In CI they are
// installed by .ci/run and a missing one fails the run; elsewhere the test is
// skipped with a loud note saying how to install it.
import { execFileSync } from 'node:child_process';

const INSTALL_HINT = 'apt-get update && apt-get install -y etcd-server etcd-client docker-compose';

export type Tool = 'etcd' | 'etcdctl' | 'docker-compose';

export function findTool(name: Tool): string | undefined {
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The tool's path, or undefined after a loud warning (outside CI only). */
export function requireTool(name: Tool): string | undefined {
  const found = findTool(name);
  if (found) return found;
  const msg = `*** ${name} is not installed: tests that need it are SKIPPED. Install it with: ${INSTALL_HINT} ***`;
  if (process.env['CI']) throw new Error(msg.replace('are SKIPPED', 'cannot run in CI'));
  process.stderr.write(`\n${msg}\n\n`);
  return undefined;
}
