/**
 * The caller's stdin, stdout and stderr, which the command inherits (the
 * CLI without --json, the API with stdio 'inherit'). A descriptor is more
 * than its data: through /proc/self/fd/N the command reaches the file it
 * names, outside the sandbox's view.
 *
 * - A directory (`isolate run -- ls /proc/self/fd/0/ < /`) would open the
 *   host's file system below it to the command: refused, exit 125.
 * - A regular file, block device or pipe (a FIFO) on stdin, opened
 *   read-only by the caller, could be opened again for writing (`echo x >
 *   /proc/self/fd/0`): into a file the user may write, or into the pipe a
 *   host loop reads its next items from (`... | while read f; do isolate
 *   run -- ...; rm "$f"; done`). isolate relays its data through a pipe of
 *   its own instead, so the command reads the same bytes and never holds
 *   the caller's. Like ssh, isolate reads ahead what the caller's pipe
 *   holds: in such a loop, give each run `</dev/null`.
 * - A regular file or block device on stdout or stderr, whoever owns it:
 *   opened again through /proc/self/fd/1, a log of another user's that the
 *   caller appends to (`>> /var/log/build.log`) could be read from its start
 *   and emptied or written over, and a file the caller owns chmod-ed and
 *   re-timed through the descriptor alone (fchmod, `chmod 0666
 *   /proc/self/fd/1`), with no capability. So the command gets a pipe there
 *   too, which isolate copies to the caller's descriptor: the command writes
 *   the same bytes and never holds the inode. stdout and stderr on the same
 *   file (`> log 2>&1`, a terminal) share one pipe, so their order stays as
 *   written.
 * - A terminal, whoever owns it (`sudo isolate run` keeps yours): what the
 *   command writes there reaches your terminal, which obeys escape
 *   sequences that act outside the screen (a clipboard write, a request it
 *   answers by typing into your shell's input). So the command gets a pipe
 *   there too, and isolate copies stdout and stderr through the filter a
 *   terminal of its own has (run/tty/filter.ts) unless --raw-terminal: a
 *   run without one (--no-tty, stdin from a file or a pipe) used to hand the
 *   command the terminal itself.
 * - A pipe on stdout or stderr (`| less`) is handed over as it is, so that
 *   the command's writes end as they would (SIGPIPE when `| head` has
 *   read enough). Opened again for reading, it gives the command what
 *   other host processes write into the same pipe while the run lasts:
 *   give a run a pipe of its own (`isolate run -- cmd | ...`, not a
 *   pipeline's shared `{ ...; } | ...`).
 * - A socket on any of them (a connection to a service, one inetd or
 *   systemd hands over, `< /dev/tcp/host/port`) is relayed too: it cannot be
 *   opened again, but it goes both ways, and a network namespace does not
 *   take a socket the command already holds: it could write to the service
 *   through its stdin, read what the service sends through its stdout, or
 *   accept connections on a listening one.
 * - The other character devices (/dev/null) are handed over as they are.
 */
import { fstatSync, readlinkSync, type Stats } from 'node:fs';
import { isatty } from 'node:tty';
import { IsolateError } from '../../errors.js';
import type { ExecuteOptions } from '../result.js';

const NAMES = ['stdin', 'stdout', 'stderr'] as const;

export interface CallerStdio {
  /** Hand the command a pipe on stdin and copy the caller's stdin into it. */
  relayStdin: boolean;
  /** Hand the command a pipe on stdout (1) or stderr (2) and copy it to the caller's: each number listed. */
  relayOutput: readonly (1 | 2)[];
  /** stdout and stderr are relayed and are the same file: one pipe for both, copied to stdout. */
  mergedOutput: boolean;
  /** The relayed outputs that are terminals: copied through the escape filter unless --raw-terminal. */
  terminals: readonly (1 | 2)[];
}

/** What isolate needs to know of the caller's descriptors 0-2 (the host's, by default). */
export interface StdioProbe {
  stat: (fd: number) => Stats | undefined;
  isTerminal: (fd: number) => boolean;
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

const hostProbe = (): StdioProbe => ({ stat: statOf, isTerminal: isatty });

function refuseDirectory(fd: number): never {
  const name = NAMES[fd] ?? `descriptor ${fd}`;
  const path = pathOf(fd);
  throw new IsolateError('E_STDIO', `${name} is a directory${path === undefined ? '' : ` (${path})`}: through it the command could open files outside the sandbox; the command was not run`, {
    fix: `give the command a file or a pipe as its ${name}, or /dev/null (isolate run -- cmd ${fd === 0 ? '</dev/null' : `${fd}>/dev/null`})`,
  });
}

/** A file or block device, whoever owns it: opened again through /proc/self/fd/N, it gives the command more than the descriptor does. */
const reopenable = (st: Stats): boolean => st.isFile() || st.isBlockDevice();

/** A terminal, whoever owns it. */
const terminal = (fd: number, st: Stats, probe: StdioProbe): boolean => st.isCharacterDevice() && probe.isTerminal(fd);

/** Refuse a directory among the inherited descriptors; say which are to be relayed through a pipe. */
export function checkCallerStdio(options: ExecuteOptions, probe: Partial<StdioProbe> = {}): CallerStdio {
  const p: StdioProbe = { ...hostProbe(), ...probe };
  let relayStdin = false;
  const relayOutput: (1 | 2)[] = [];
  const terminals: (1 | 2)[] = [];
  const stats = new Map<number, Stats>();
  for (const fd of inheritedStdio(options)) {
    const st = p.stat(fd);
    if (st === undefined) continue;
    if (st.isDirectory()) refuseDirectory(fd);
    stats.set(fd, st);
    const tty = terminal(fd, st, p);
    // A pipe on stdin too: opened again for writing, it would feed the next host program that reads it.
    if (fd === 0) relayStdin = reopenable(st) || st.isFIFO() || st.isSocket() || tty;
    else if (tty || reopenable(st) || st.isSocket()) relayOutput.push(fd === 1 ? 1 : 2);
    if (fd !== 0 && tty) terminals.push(fd === 1 ? 1 : 2);
  }
  const [out, err] = [stats.get(1), stats.get(2)];
  const mergedOutput = relayOutput.length === 2 && out !== undefined && err !== undefined && out.dev === err.dev && out.ino === err.ino;
  return { relayStdin, relayOutput, mergedOutput, terminals };
}
