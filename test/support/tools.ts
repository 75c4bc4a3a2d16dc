// External programs some tests need (Debian's etcd, etcdctl, docker-compose). In CI they are
// installed by .ci/run and a missing one fails the run; elsewhere the test is
// skipped with a loud note saying how to install it.
import { execFile, execFileSync } from 'node:child_process';

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

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Debian's etcdctl (API v3) with these arguments; `endpoints` become --endpoints when given. */
export function runEtcdctl(args: string[], opts: { endpoints?: string[]; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  const all = opts.endpoints ? [`--endpoints=${opts.endpoints.join(',')}`, ...args] : args;
  return new Promise((resolve) => {
    execFile(requireTool('etcdctl')!, all, { env: { ETCDCTL_API: '3' }, timeout: opts.timeoutMs ?? 60_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
}
