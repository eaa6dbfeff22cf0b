/**
 * Which file the sandbox will execute for the program the user named: the
 * first PATH candidate that is visible inside the sandbox. Decided before the
 * sandbox starts so "not found" (127) and "not executable" (126) are exact.
 */
import { IsolateError } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { isVisible, isWithin } from './mounts.js';
import type { CommandFact } from './types.js';

/**
 * Whether the path bwrap will execute exists inside the sandbox: either a
 * read or write rule governs it as written, or it lies under a symlink the
 * sandbox recreates (/bin -> /usr/bin) and its target is visible.
 */
export function reachable(rules: readonly MountRule[], path: string): boolean {
  if (isVisible(rules, path)) return true;
  return rules.some(
    (r) => r.linkFrom !== undefined && r.kind !== 'deny' && isWithin(path, r.linkFrom) && isVisible(rules, r.path + path.slice(r.linkFrom.length)),
  );
}

export function pickCommand(fact: CommandFact, rules: readonly MountRule[]): string {
  let notExecutable: string | undefined;
  for (const c of fact.candidates) {
    // Both the path as written and the file it finally names must be inside the sandbox.
    if (c.real === undefined || !isVisible(rules, c.real) || !reachable(rules, c.path)) continue;
    if (c.isFile && c.executable) return c.path;
    notExecutable ??= c.path;
  }
  if (notExecutable !== undefined) {
    throw new IsolateError('E_COMMAND_NOT_EXECUTABLE', `${fact.program}: ${notExecutable} is not an executable file`, {
      exitCode: 126,
      fix: `check its permissions (chmod +x ${notExecutable})`,
    });
  }
  const hostOnly = fact.candidates.find((c) => c.real !== undefined && c.isFile);
  throw new IsolateError('E_COMMAND_NOT_FOUND', `${fact.program}: command not found inside the sandbox`, {
    exitCode: 127,
    ...(hostOnly === undefined
      ? {}
      : {
          detail: `${hostOnly.path} exists on the host but the profile does not expose it`,
          fix: `add --allow-read ${hostOnly.real ?? hostOnly.path}`,
        }),
  });
}
