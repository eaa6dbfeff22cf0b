/**
 * The profile's paths in a command line a person runs (explain): a run binds
 * each from the descriptor it opened without following a link (Plan.pathFds,
 * `bind`), and the line opens each path on that descriptor with `N<`. A path
 * no shell can open that way (a socket the profile names to share one
 * service, a pipe, a device) would stop the line, so it is bound by its path
 * there instead, as bwrap did before descriptors, and not opened. Pure.
 */
import type { Plan } from './types.js';

type PathFd = NonNullable<Plan['pathFds']>[number];

/** The binds of `entries` whose path `unopenable` says a shell cannot open, by descriptor number. */
export function bindsByPath(entries: readonly PathFd[], unopenable: (path: string) => boolean): Map<number, PathFd> {
  return new Map(entries.filter((e) => e.bind === true && unopenable(e.path)).map((e) => [e.fd, e]));
}

/** `argv` with bwrap's `--bind-fd N path` / `--ro-bind-fd N path` of those binds as `--bind path path` / `--ro-bind path path`. */
export function bindArgsByPath(argv: readonly string[], byPath: ReadonlyMap<number, PathFd>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const entry = (arg === '--bind-fd' || arg === '--ro-bind-fd') && /^\d+$/.test(argv[i + 1] ?? '') ? byPath.get(Number(argv[i + 1])) : undefined;
    if (entry === undefined || argv[i + 2] !== entry.path) {
      out.push(arg);
      continue;
    }
    out.push(arg === '--bind-fd' ? '--bind' : '--ro-bind', entry.path, entry.path);
    i += 2;
  }
  return out;
}
