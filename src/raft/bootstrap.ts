// Helpers for starting members: a fresh cluster, or a member restarting from storage.

import { Config } from './config';
import { RawNode } from './rawnode';
import { NodeId } from './types';

/** A RawNode for a member of a brand-new cluster whose initial voters are `peers`. */
export function startNode(config: Config, peers: NodeId[]): RawNode {
  const rn = new RawNode(config);
  rn.bootstrap(peers);
  return rn;
}

/** A RawNode over existing storage (restart) or for a member joining an existing cluster (empty storage). */
export function restartNode(config: Config): RawNode {
  return new RawNode(config);
}
