/**
 * The caller's stdin, stdout and stderr, which the command inherits (the
 * CLI without --json, the API with stdio 'inherit'). A descriptor is more
 * than its data: through /proc/self/fd/N the command reaches the file it
 * names, outside the sandbox's view.
 *
 * - A directory (`isolate run -- ls /proc/self/fd/0/ < /`) would open the
 *   host's file system below it to the command: refused, exit 125.
 * - A regular file or block device on stdin, opened read-only by the caller,
 *   could be opened again for writing (`echo x > /proc/self/fd/0`) when the
 *   user may write it: isolate relays its data through a pipe instead, so the
 *   command reads the same bytes and never holds the file.
 * - Pipes, terminals, /dev/null and sockets are handed over as they are:
 *   reopening one gives nothing the command does not have already.
 *
 * stdout and stderr stay the caller's files: the command may write them, as
 * asked (see README, "What is enforced today").
 */
import { fstatSync, readlinkSync, type Stats } from 'node:fs';
import { IsolateError } from '../../errors.js';
import type { ExecuteOptions } from '../result.js';

const NAMES = ['stdin', 'stdout', 'stderr'] as const;

export interface CallerStdio {
  /** Hand the command a pipe on stdin and copy the caller's stdin into it. */
  relayStdin: boolean;
}

/** The caller's descriptors 0-2 that the command would inherit. */
export function inheritedStdio(options: ExecuteOptions): number[] {
  if (options.stdio === 'inherit') return [0, 1, 2];
  return options.input === 'inherit' ? [0] : [];
}

/** What descriptor `fd` is, or undefined when it is closed (nothing to hand over). */
function statOf(fd: number): Stats | undefined {
  try {
    return fstatSync(fd);
  } catch {
    return undefined;
  }
}

/** Where a descriptor leads, for the message (Linux; elsewhere, or unreadable, nothing). */
function pathOf(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** Refuse a directory among the inherited descriptors; say whether stdin is to be relayed. */
export function checkCallerStdio(options: ExecuteOptions, stat: (fd: number) => Stats | undefined = statOf): CallerStdio {
  let relayStdin = false;
  for (const fd of inheritedStdio(options)) {
    const st = stat(fd);
    if (st === undefined) continue;
    const name = NAMES[fd] ?? `descriptor ${fd}`;
    if (st.isDirectory()) {
      const path = pathOf(fd);
      throw new IsolateError('E_STDIO', `${name} is a directory${path === undefined ? '' : ` (${path})`}: through it the command could open files outside the sandbox; the command was not run`, {
        fix: `give the command a file or a pipe as its ${name}, or /dev/null (isolate run -- cmd ${fd === 0 ? '</dev/null' : `${fd}>/dev/null`})`,
      });
    }
    if (fd === 0 && (st.isFile() || st.isBlockDevice())) relayStdin = true;
  }
  return { relayStdin };
}
