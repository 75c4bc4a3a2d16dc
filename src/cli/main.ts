// The etcd-ts command: parse flags, start a member, stop it cleanly on SIGINT or
// SIGTERM. A configuration mistake prints one line and exits with status 2
// before anything is created.
import { ConfigError, parseArgs } from './parse';
import { buildConfig, MemberConfig } from './config';
import { usage } from './flags';
import { createLogger } from '../log';
import { Member } from '../server/member';
import { tuneGc } from './gc-tuning';
import { ETCD_API_VERSION, VERSION } from '../version';
import { snapshotCommand } from './snapshot-restore';

/** How long a removed member keeps running before it exits, in heartbeat intervals (etcd's 10 ticks). */
export const REMOVED_STOP_DELAY_HEARTBEATS = 10;

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): MemberConfig | 'help' | 'version' {
  const parsed = parseArgs(argv, env);
  if (parsed.kind !== 'run') return parsed.kind;
  return buildConfig(parsed.values, parsed.explicit);
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  if (argv[0] === 'snapshot') {
    process.exitCode = await snapshotCommand(argv.slice(1));
    return;
  }
  let config: MemberConfig | 'help' | 'version';
  try {
    config = loadConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`etcd-ts: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (config === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (config === 'version') {
    process.stdout.write(`etcd-ts Version: ${VERSION}\netcd API Version: ${ETCD_API_VERSION}\nNode Version: ${process.version}\n`);
    return;
  }

  const logger = createLogger(config.name, config.logLevel);
  tuneGc();
  const member = new Member(config, logger);
  // A failed WAL or store write leaves the member unable to keep its promises: stop
  // serving at once, as etcd does, rather than answering from state it cannot persist.
  member.onFatal = () => {
    member.stop().finally(() => process.exit(1));
  };
  // Removed from the cluster by a conf change: nothing left to serve, so it exits,
  // after ten heartbeat intervals as etcd does (stopWithDelay), not at once. The
  // delay lets what it still has to send leave first, such as a removed leader's
  // commit of its own removal, which the follower that asked for it waits on.
  member.onRemoved = () => {
    setTimeout(() => void member.stop().finally(() => process.exit(0)), REMOVED_STOP_DELAY_HEARTBEATS * config.heartbeatMs);
  };
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'received signal; shutting down');
    member.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    await member.start();
  } catch (err) {
    logger.fatal({ err }, 'member failed to start');
    await member.stop().catch(() => undefined);
    process.exit(1);
  }
}
