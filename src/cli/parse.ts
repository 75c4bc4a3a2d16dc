// Turns argv and the ETCD_* environment into raw flag values, with Go's flag
// syntax as etcd accepts it (-f or --f, "=value" or a separate value) and etcd's
// rule that a flag given both ways is an error.
import { FLAGS, FlagSpec, envName } from './flags';

/** A configuration mistake: the process prints the message and exits with status 2. */
export class ConfigError extends Error {}

export type ParseResult =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; values: Map<string, string>; explicit: Set<string> };

const byName = new Map<string, FlagSpec>(FLAGS.map((f) => [f.name, f]));

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParseResult {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new ConfigError(`'${arg}' is not a valid flag`);
    const name = m[1]!;
    if (name === 'help' || name === 'h') return { kind: 'help' };
    if (name === 'version') return { kind: 'version' };
    const spec = byName.get(name);
    if (!spec) throw new ConfigError(`flag provided but not defined: -${name}`);
    let value = m[2];
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new ConfigError(`flag needs an argument: -${name}`);
    }
    if (given.has(name)) throw new ConfigError(`flag --${name} given more than once`);
    given.set(name, value);
  }

  const values = new Map<string, string>();
  // Some defaults depend on whether another flag was set (etcd derives
  // --initial-cluster from --name), so remember which were.
  const explicit = new Set<string>();
  for (const spec of FLAGS) {
    const fromEnv = env[envName(spec.name)];
    const fromArg = given.get(spec.name);
    if (fromArg !== undefined && fromEnv !== undefined) {
      throw new ConfigError(
        `conflicting environment variable "${envName(spec.name)}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
      );
    }
    const raw = fromArg ?? fromEnv;
    values.set(spec.name, raw ?? spec.default);
    if (raw !== undefined) {
      checkKind(spec, raw);
      explicit.add(spec.name);
    }
  }
  return { kind: 'run', values, explicit };
}

function checkKind(spec: FlagSpec, raw: string): void {
  if (spec.kind === 'int' && !/^-?\d+$/.test(raw.trim())) {
    throw new ConfigError(`invalid value "${raw}" for flag --${spec.name}: parse error`);
  }
  if (spec.kind === 'bool' && !/^(1|0|t|f|true|false|TRUE|FALSE|True|False)$/.test(raw)) {
    throw new ConfigError(`invalid boolean value "${raw}" for flag --${spec.name}`);
  }
}
