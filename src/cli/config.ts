// Validates raw flag values into a member configuration, with etcd's rules and
// derived defaults. Nothing here touches the disk or the network, so a bad
// command line fails before anything is created.
import { ConfigError } from './parse';
import { parseDurationMs } from './duration';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';

export interface ClusterMember {
  name: string;
  peerUrls: string[];
}

export interface MemberConfig {
  name: string;
  dataDir: string;
  listenClientUrls: URL[];
  advertiseClientUrls: string[];
  listenPeerUrls: URL[];
  initialAdvertisePeerUrls: string[];
  initialCluster: ClusterMember[];
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  heartbeatMs: number;
  electionMs: number;
  snapshotCount: number;
  /** Periodic progress notifications for watchers that asked (etcd's experimental flag; 10 min). */
  watchProgressNotifyMs: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  /** --quota-backend-bytes as given: 0 is etcd's default (2 GiB), negative switches the quota off. */
  quotaBackendBytes: number;
  logLevel: LogLevel;
  /** Advertised peer URL -> the URL to dial instead (a test proxy); identities are unchanged. */
  peerUrlOverrides: Map<string, string>;
}

/** etcd refuses election timeouts above this (embed/config.go). */
const MAX_ELECTION_MS = 50_000;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'];

export function parseUrls(flag: string, raw: string): URL[] {
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new ConfigError(`--${flag} must name at least one URL`);
  return parts.map((p) => {
    let u: URL;
    try {
      u = new URL(p);
    } catch {
      throw new ConfigError(`--${flag}: invalid URL "${p}"`);
    }
    if (u.protocol === 'https:') throw new ConfigError(`--${flag}: "${p}": TLS (https) is not supported by etcd-ts yet; use http`);
    if (u.protocol !== 'http:') throw new ConfigError(`--${flag}: URL scheme must be http, got "${p}"`);
    if (u.port === '') throw new ConfigError(`--${flag}: URL "${p}" has no port`);
    if (u.pathname !== '/' && u.pathname !== '') throw new ConfigError(`--${flag}: URL "${p}" must not have a path`);
    return u;
  });
}

/** "name=url,name=url2,other=url3" -> members in order of first appearance. */
export function parseInitialCluster(raw: string): ClusterMember[] {
  const members = new Map<string, string[]>();
  for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--initial-cluster: "${part}" is not of the form name=url`);
    const name = part.slice(0, eq);
    const url = parseUrls('initial-cluster', part.slice(eq + 1))[0]!;
    const urls = members.get(name) ?? [];
    urls.push(urlString(url));
    members.set(name, urls);
  }
  if (members.size === 0) throw new ConfigError('--initial-cluster must name at least one member');
  return [...members].map(([name, peerUrls]) => ({ name, peerUrls }));
}

/** A URL as etcd writes it: scheme://host:port, no trailing slash. */
export function urlString(u: URL): string {
  return `${u.protocol}//${u.host}`;
}

function duration(values: Map<string, string>, flag: string): number {
  const ms = parseDurationMs(values.get(flag)!);
  if (ms === undefined) throw new ConfigError(`--${flag} must be a duration such as 10m or 500ms, got "${values.get(flag)}"`);
  return ms;
}

function int(values: Map<string, string>, flag: string, min: number): number {
  const n = Number(values.get(flag)!.trim());
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`--${flag} must be an integer >= ${min}, got "${values.get(flag)}"`);
  return n;
}

export function buildConfig(values: Map<string, string>, explicit: Set<string>): MemberConfig {
  const name = values.get('name')!;
  if (name === '') throw new ConfigError('--name must not be empty');
  const dataDir = explicit.has('data-dir') ? values.get('data-dir')! : `${name}.etcd`;

  const heartbeatMs = int(values, 'heartbeat-interval', 1);
  const electionMs = int(values, 'election-timeout', 1);
  if (electionMs < 5 * heartbeatMs) {
    throw new ConfigError(
      `--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`,
    );
  }
  if (electionMs > MAX_ELECTION_MS) {
    throw new ConfigError(`--election-timeout[${electionMs}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`);
  }

  const state = values.get('initial-cluster-state')!;
  if (state !== 'new' && state !== 'existing') {
    throw new ConfigError(`invalid value "${state}" for flag --initial-cluster-state: valid values are "new" or "existing"`);
  }
  const logLevel = values.get('log-level')! as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`--log-level: unknown level "${logLevel}" (valid: ${LOG_LEVELS.join(', ')})`);
  }

  const listenClientUrls = parseUrls('listen-client-urls', values.get('listen-client-urls')!);
  const advertiseClientUrls = parseUrls('advertise-client-urls', values.get('advertise-client-urls')!).map(urlString);
  const listenPeerUrls = parseUrls('listen-peer-urls', values.get('listen-peer-urls')!);
  const initialAdvertisePeerUrls = parseUrls('initial-advertise-peer-urls', values.get('initial-advertise-peer-urls')!).map(urlString);

  // etcd: an untouched --initial-cluster follows --name and the advertised peer URLs.
  const initialCluster = explicit.has('initial-cluster')
    ? parseInitialCluster(values.get('initial-cluster')!)
    : [{ name, peerUrls: initialAdvertisePeerUrls }];
  const self = initialCluster.find((m) => m.name === name);
  if (!self) {
    throw new ConfigError(`couldn't find local name "${name}" in the initial cluster configuration`);
  }
  const want = [...self.peerUrls].sort().join(',');
  const have = [...initialAdvertisePeerUrls].sort().join(',');
  if (want !== have) {
    throw new ConfigError(
      `--initial-cluster has ${name}=${self.peerUrls.join(',')} but missing from --initial-advertise-peer-urls=${initialAdvertisePeerUrls.join(',')}`,
    );
  }
  const seen = new Map<string, string>();
  for (const m of initialCluster) {
    for (const u of m.peerUrls) {
      const other = seen.get(u);
      if (other !== undefined) throw new ConfigError(`--initial-cluster: peer URL ${u} is given to both ${other} and ${m.name}`);
      seen.set(u, m.name);
    }
  }

  return {
    name,
    dataDir,
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state,
    initialClusterToken: values.get('initial-cluster-token')!,
    heartbeatMs,
    electionMs,
    snapshotCount: int(values, 'snapshot-count', 1),
    maxRequestBytes: int(values, 'max-request-bytes', 1),
    maxTxnOps: int(values, 'max-txn-ops', 1),
    quotaBackendBytes: int(values, 'quota-backend-bytes', Number.MIN_SAFE_INTEGER),
    watchProgressNotifyMs: duration(values, 'experimental-watch-progress-notify-interval'),
    logLevel,
    peerUrlOverrides: parseOverrides(values.get('peer-url-overrides')!),
  };
}

function parseOverrides(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    // "http://a:1=http://b:2": split at the "=" that starts the second URL.
    const m = /^(.+?)=(https?:\/\/.+)$/.exec(part);
    if (!m) throw new ConfigError(`--peer-url-overrides: "${part}" is not of the form peer-url=dial-url`);
    const from = urlString(parseUrls('peer-url-overrides', m[1]!)[0]!);
    const to = urlString(parseUrls('peer-url-overrides', m[2]!)[0]!);
    out.set(from, to);
  }
  return out;
}
