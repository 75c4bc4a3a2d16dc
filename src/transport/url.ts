// Peer URLs (http://host:port as etcd's flags give them) reduced to what a TCP
// socket needs. Peers are addressed only by URL: the chaos suite puts proxies
// in front of peer ports, so an advertised port need not be a listen port.

export interface HostPort {
  host: string;
  port: number;
}

export function parsePeerUrl(raw: string): HostPort {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`transport: invalid peer URL ${JSON.stringify(raw)}`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`transport: invalid peer URL ${JSON.stringify(raw)}`);
  }
  return { host, port };
}
