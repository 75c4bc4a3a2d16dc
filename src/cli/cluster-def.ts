// Cluster definitions (cluster-configs/*.json) and the member command lines they
// imply. One function builds the flags, so the local launcher, the compose file
// check and the cluster tests all start members the same way.

export interface ClusterMemberDef {
  name: string;
  /** Host the member's URLs name (127.0.0.1 locally, the service name in compose). */
  host?: string;
  clientPort: number;
  peerPort: number;
}

export interface ClusterDef {
  description?: string;
  token: string;
  /** Default host for members that name none. */
  host: string;
  /** Where data directories go, relative to the working directory: <dataRoot>/<name>.etcd */
  dataRoot: string;
  /** Extra flags given to every member (e.g. timings). */
  extraArgs?: string[];
  members: ClusterMemberDef[];
}

export function parseClusterDef(json: string, source: string): ClusterDef {
  const def = JSON.parse(json) as ClusterDef;
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (typeof def.token !== 'string' || def.token === '') fail('"token" must be a non-empty string');
  if (typeof def.host !== 'string' || def.host === '') fail('"host" must be a non-empty string');
  if (typeof def.dataRoot !== 'string') fail('"dataRoot" must be a string');
  if (!Array.isArray(def.members) || def.members.length === 0) fail('"members" must be a non-empty list');
  const names = new Set<string>();
  for (const m of def.members) {
    if (typeof m.name !== 'string' || m.name === '') fail('every member needs a "name"');
    if (names.has(m.name)) fail(`member name "${m.name}" appears twice`);
    names.add(m.name);
    for (const p of [m.clientPort, m.peerPort]) if (!Number.isInteger(p) || p <= 0 || p > 65535) fail(`member "${m.name}" has a bad port`);
  }
  return def;
}

const hostOf = (def: ClusterDef, m: ClusterMemberDef): string => m.host ?? def.host;
export const peerUrl = (def: ClusterDef, m: ClusterMemberDef): string => `http://${hostOf(def, m)}:${m.peerPort}`;
export const clientUrl = (def: ClusterDef, m: ClusterMemberDef): string => `http://${hostOf(def, m)}:${m.clientPort}`;

/** The etcd flags that start member `m` of `def`. */
export function memberArgs(def: ClusterDef, m: ClusterMemberDef, opts: { listenHost?: string } = {}): string[] {
  const listenHost = opts.listenHost ?? hostOf(def, m);
  const initialCluster = def.members.map((x) => `${x.name}=${peerUrl(def, x)}`).join(',');
  return [
    '--name', m.name,
    '--data-dir', def.dataRoot === '' ? `${m.name}.etcd` : `${def.dataRoot}/${m.name}.etcd`,
    '--listen-client-urls', `http://${listenHost}:${m.clientPort}`,
    '--advertise-client-urls', clientUrl(def, m),
    '--listen-peer-urls', `http://${listenHost}:${m.peerPort}`,
    '--initial-advertise-peer-urls', peerUrl(def, m),
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', def.token,
    ...(def.extraArgs ?? []),
  ];
}
