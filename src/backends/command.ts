/**
 * Which file the sandbox will execute for the program the user named: the
 * first PATH candidate that is visible inside the sandbox. Decided before the
 * sandbox starts so "not found" (127) and "not executable" (126) are exact.
 */
import { IsolateError } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { isVisible } from './mounts.js';
import type { CommandFact } from './types.js';

export function pickCommand(fact: CommandFact, rules: readonly MountRule[]): string {
  let notExecutable: string | undefined;
  for (const c of fact.candidates) {
    if (c.real === undefined || !isVisible(rules, c.real)) continue;
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
