// Auth the way an operator turns it on with Debian's etcdctl and applications
// use it through the etcd3 npm package: a root user, a role limited to a
// prefix, `auth enable`, writes and reads as each user, and the auth store
// surviving a restart of every member.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { RunningCluster, startEtsCluster, waitHealthy } from '../support/cluster';
import { requireTool, runEtcdctl } from '../support/tools';

let cluster: RunningCluster | undefined;
const clients: Etcd3[] = [];

beforeAll(async () => {
  if (!requireTool('etcdctl')) return;
  cluster = await startEtsCluster(3);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

const ctl = (args: string[], user?: string) => runEtcdctl(user ? ['--user', user, ...args] : args, { endpoints: cluster!.endpoints, timeoutMs: 30_000 });

describe('auth with etcdctl and the etcd3 package', () => {
  it('enables auth, limits a user to its role, and keeps it all across restarts', async () => {
    if (!cluster) return;
    expect((await ctl(['user', 'add', 'root:rootpw'])).stdout.trim()).toBe('User root created');
    expect((await ctl(['user', 'add', 'app:apppw'])).stdout.trim()).toBe('User app created');
    expect((await ctl(['role', 'add', 'apps'])).stdout.trim()).toBe('Role apps created');
    expect((await ctl(['role', 'grant-permission', 'apps', 'readwrite', 'app/', '--prefix=true'])).stdout.trim()).toBe('Role apps updated');
    expect((await ctl(['user', 'grant-role', 'app', 'apps'])).stdout.trim()).toBe('Role apps is granted to user app');
    // etcdctl creates the root role itself when enabling finds root without it.
    expect((await ctl(['auth', 'enable'])).stdout.trim()).toBe('Authentication Enabled');

    const noUser = await ctl(['put', 'app/a', '1']);
    expect(noUser.stderr).toContain('etcdserver: user name is empty');
    expect((await ctl(['put', 'app/a', '1'], 'app:apppw')).stdout.trim()).toBe('OK');
    expect((await ctl(['put', 'other', '1'], 'app:apppw')).stderr).toContain('etcdserver: permission denied');
    expect((await ctl(['get', 'app/a', '--print-value-only'], 'app:apppw')).stdout.trim()).toBe('1');
    expect((await ctl(['get', 'app/a'], 'app:wrong')).stderr).toContain('etcdserver: authentication failed, invalid user ID or password');
    expect((await ctl(['user', 'list'], 'app:apppw')).stderr).toContain('etcdserver: permission denied');
    expect((await ctl(['user', 'list'], 'root:rootpw')).stdout.trim().split('\n')).toEqual(['app', 'root']);
    expect((await ctl(['role', 'get', 'apps'], 'root:rootpw')).stdout).toContain('[app/, app0) (prefix app/)');

    // The etcd3 package logs in by itself and refreshes its token.
    const app = new Etcd3({ hosts: cluster.endpoints, auth: { username: 'app', password: 'apppw' } });
    clients.push(app);
    await app.put('app/b').value('2');
    expect(await app.get('app/b').string()).toBe('2');
    await expect(app.put('elsewhere').value('x')).rejects.toThrow(/permission denied/);

    // Every member restarted: users, roles and "enabled" come back from disk.
    for (let i = 0; i < cluster.members.length; i++) {
      await cluster.kill(i, 'SIGTERM');
      cluster.restart(i);
    }
    for (let i = 0; i < 100 && (await ctl(['endpoint', 'health'], 'root:rootpw')).code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect((await ctl(['get', 'app/', '--prefix', '--keys-only'], 'app:apppw')).stdout.trim().split('\n').filter((l) => l)).toEqual(['app/a', 'app/b']);
    expect((await ctl(['put', 'app/a', '1'])).stderr).toContain('etcdserver: user name is empty');
    expect((await ctl(['auth', 'disable'], 'root:rootpw')).stdout.trim()).toBe('Authentication Disabled');
    expect((await ctl(['put', 'anything', '1'])).stdout.trim()).toBe('OK');
    await waitHealthy(cluster.endpoints);
  });
});
