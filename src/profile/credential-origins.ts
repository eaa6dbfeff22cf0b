/**
 * A credential read from a file or a command makes isolate act on the host
 * (trust.ts): it reads that file, or runs that program, outside any sandbox,
 * before the run. So its profile must be one nobody else can write, and the
 * sandbox is somebody else: a profile inside a path the run's sandbox can
 * write, or an earlier run's could (a `ci.yaml` in the project:
 * earlier-runs.ts), may have been written by the command of a run, which
 * would then choose a program isolate runs on the host, or a file of the
 * caller's (`~/.git-credentials`) that the proxy sends to hosts the command
 * chose. Such a profile may still take a value from a variable
 * (`from: { env }`).
 */
import type { CredentialSpec } from '../network/credentials/spec.js';
import { originFile, plantedError } from './planted-profile.js';

/** Refuse a file or command source defined by a profile file inside a path a sandbox can write (`writable`: this run's or an earlier one's). */
export function checkCredentialOrigins(specs: readonly CredentialSpec[], writable: (path: string) => boolean): void {
  for (const spec of specs) {
    if (spec.source.kind === 'env') continue;
    const file = originFile(spec.from);
    if (file === undefined || !writable(file)) continue;
    throw plantedError(file, `${spec.from.slice(file.length + 2)}: its from: ${spec.source.kind} makes isolate act on the host`, `keep a profile with file or command sources outside the paths the sandbox can write (e.g. in ~/.config/isolate/profiles/), or take the value from a variable (from: { env: ${spec.name} })`);
  }
}
