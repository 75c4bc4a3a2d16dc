// The member's flags as etcd defines them: defaults, ETCD_* twins, and the
// mistakes etcd refuses.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/main';
import { ConfigError } from '../../src/cli/parse';
import type { MemberConfig } from '../../src/cli/config';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}): MemberConfig => {
  const c = loadConfig(argv, env);
  if (typeof c === 'string') throw new Error(`unexpected ${c}`);
  return c;
};
const fails = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    loadConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('defaults', () => {
  it("match etcd's", () => {
    const c = run([]);
    expect(c.name).toBe('default');
    expect(c.dataDir).toBe('default.etcd');
    expect(c.listenClientUrls.map(String)).toEqual(['http://localhost:2379/']);
    expect(c.advertiseClientUrls).toEqual(['http://localhost:2379']);
    expect(c.listenPeerUrls.map(String)).toEqual(['http://localhost:2380/']);
    expect(c.initialAdvertisePeerUrls).toEqual(['http://localhost:2380']);
    expect(c.initialCluster).toEqual([{ name: 'default', peerUrls: ['http://localhost:2380'] }]);
    expect(c.initialClusterState).toBe('new');
    expect(c.initialClusterToken).toBe('etcd-cluster');
    expect([c.heartbeatMs, c.electionMs, c.snapshotCount]).toEqual([100, 1000, 100000]);
    expect([c.maxRequestBytes, c.maxTxnOps, c.logLevel]).toEqual([1572864, 128, 'info']);
  });

  it('derive the data dir and the initial cluster from --name', () => {
    const c = run(['--name', 'n1', '--initial-advertise-peer-urls=http://127.0.0.1:12380']);
    expect(c.dataDir).toBe('n1.etcd');
    expect(c.initialCluster).toEqual([{ name: 'n1', peerUrls: ['http://127.0.0.1:12380'] }]);
  });
});

describe('syntax', () => {
  it('accepts -flag, --flag value and --flag=value', () => {
    expect(run(['-name', 'a', '--data-dir', '/x', '--max-txn-ops=7', '--initial-cluster=a=http://localhost:2380']).maxTxnOps).toBe(7);
  });

  it('reads ETCD_* environment twins', () => {
    const c = run([], { ETCD_NAME: 'e', ETCD_INITIAL_CLUSTER: 'e=http://localhost:2380', ETCD_HEARTBEAT_INTERVAL: '50', ETCD_ELECTION_TIMEOUT: '500' });
    expect([c.name, c.heartbeatMs, c.electionMs]).toEqual(['e', 50, 500]);
  });

  it('refuses a flag given both ways, as etcd 3.4 does', () => {
    expect(fails(['--name', 'a'], { ETCD_NAME: 'b' })).toMatch(/conflicting environment variable "ETCD_NAME"/);
  });

  it('reads peer URL overrides (a test proxy per link)', () => {
    const c = run(['--peer-url-overrides', 'http://127.0.0.1:2380=http://127.0.0.1:9000,http://h:1=http://127.0.0.1:9001']);
    expect([...c.peerUrlOverrides]).toEqual([['http://127.0.0.1:2380', 'http://127.0.0.1:9000'], ['http://h:1', 'http://127.0.0.1:9001']]);
    expect(fails(['--peer-url-overrides', 'nonsense'])).toMatch(/peer-url=dial-url/);
  });

  it('knows --help and --version', () => {
    expect(loadConfig(['--help'], {})).toBe('help');
    expect(loadConfig(['--version'], {})).toBe('version');
  });
});

describe('mistakes', () => {
  it.each([
    [['--no-such-flag'], /flag provided but not defined: -no-such-flag/],
    [['--name'], /flag needs an argument/],
    [['--heartbeat-interval', 'abc'], /invalid value "abc"/],
    [['--listen-client-urls', 'not a url'], /invalid URL/],
    [['--listen-client-urls', 'ftp://localhost:1'], /scheme must be http/],
    [['--listen-client-urls', 'http://localhost'], /has no port/],
    [['--election-timeout', '499'], /should be at least as 5 times as --heartbeat-interval\[100ms\]/],
    [['--election-timeout', '60000'], /is too long/],
    [['--initial-cluster-state', 'maybe'], /--initial-cluster-state/],
    [['--name', 'a', '--initial-cluster', 'b=http://localhost:2380'], /couldn't find local name "a"/],
    [['--initial-cluster', 'default=http://localhost:9999'], /missing from --initial-advertise-peer-urls/],
    [['--initial-cluster', 'garbage'], /name=url/],
    [['--log-level', 'loud'], /unknown level/],
    [['--max-request-bytes', '0'], /must be an integer >= 1/],
  ])('%j is refused', (argv, re) => {
    expect(fails(argv)).toMatch(re);
  });
});
