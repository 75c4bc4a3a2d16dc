// The member's command-line flags: etcd's names, defaults and help text, so an
// etcd command line (or an ETCD_* environment) starts an etcd-ts member as is.

export type FlagKind = 'string' | 'int' | 'bool';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  default: string;
  help: string;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'name', kind: 'string', default: 'default', help: 'Human-readable name for this member.' },
  { name: 'data-dir', kind: 'string', default: '${name}.etcd', help: 'Path to the data directory.' },
  { name: 'listen-client-urls', kind: 'string', default: 'http://localhost:2379', help: 'List of URLs to listen on for client traffic.' },
  { name: 'advertise-client-urls', kind: 'string', default: 'http://localhost:2379', help: "List of this member's client URLs to advertise to the public." },
  { name: 'listen-peer-urls', kind: 'string', default: 'http://localhost:2380', help: 'List of URLs to listen on for peer traffic.' },
  { name: 'initial-advertise-peer-urls', kind: 'string', default: 'http://localhost:2380', help: "List of this member's peer URLs to advertise to the rest of the cluster." },
  { name: 'initial-cluster', kind: 'string', default: 'default=http://localhost:2380', help: 'Initial cluster configuration for bootstrapping (name=peer-url,...).' },
  { name: 'initial-cluster-state', kind: 'string', default: 'new', help: "Initial cluster state ('new' or 'existing')." },
  { name: 'initial-cluster-token', kind: 'string', default: 'etcd-cluster', help: 'Initial cluster token for the etcd cluster during bootstrap.' },
  { name: 'heartbeat-interval', kind: 'int', default: '100', help: 'Time (in milliseconds) of a heartbeat interval.' },
  { name: 'election-timeout', kind: 'int', default: '1000', help: 'Time (in milliseconds) for an election to timeout.' },
  { name: 'snapshot-count', kind: 'int', default: '100000', help: 'Number of committed transactions to trigger a snapshot to disk.' },
  { name: 'max-request-bytes', kind: 'int', default: '1572864', help: 'Maximum client request size in bytes the server will accept.' },
  { name: 'quota-backend-bytes', kind: 'int', default: '0', help: 'Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).' },
  { name: 'max-txn-ops', kind: 'int', default: '128', help: 'Maximum number of operations permitted in a transaction.' },
  {
    name: 'experimental-watch-progress-notify-interval',
    kind: 'string',
    default: '10m0s',
    help: 'Duration of periodic watch progress notifications.',
  },
  {
    name: 'peer-url-overrides',
    kind: 'string',
    default: '',
    help: 'etcd-ts only, for tests: advertised-peer-url=url-to-dial,... dials a peer at another address (a proxy) without changing member ids.',
  },
  { name: 'log-level', kind: 'string', default: 'info', help: "Configures log level. Only supports debug, info, warn, error, panic, or fatal." },
];

/** ETCD_SOME_FLAG for --some-flag, etcd's convention for every flag. */
export function envName(flag: string): string {
  return 'ETCD_' + flag.toUpperCase().replace(/-/g, '_');
}

export function usage(): string {
  const lines = [
    'Usage:',
    '',
    '  etcd-ts [flags]',
    '  etcd-ts snapshot restore <filename> [--name <name>] [--data-dir <dir>] [--skip-hash-check]',
    '',
    'Start an etcd-ts member (etcd v3 API over Raft), or make a data dir from a snapshot saved with etcdctl.',
    '',
    'Flags:',
  ];
  for (const f of FLAGS) {
    lines.push(`  --${f.name} '${f.default}'`, `      ${f.help} (env ${envName(f.name)})`);
  }
  lines.push('  --version', '      Print the version and exit.', '  --help', '      Show this help and exit.');
  return lines.join('\n') + '\n';
}
