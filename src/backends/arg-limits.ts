/**
 * What Linux and bubblewrap accept on a command line, checked while
 * planning: a command past them would fail at its start, as an internal
 * error (spawn E2BIG) or as a sandbox that "could not be set up", when the
 * fix is the user's: pass the data another way.
 */
import { IsolateError } from '../errors.js';

/** Linux's limit on one argument or environment entry, its final NUL included (MAX_ARG_STRLEN: 32 pages). */
export const MAX_ARG_BYTES = 131072;

/** bubblewrap's limit on the arguments it parses: those after its program name and those its --args descriptor adds (MAX_ARGS). */
export const BWRAP_MAX_ARGS = 9000;

const PASS_ANOTHER_WAY = 'pass the data through a file in the project or through standard input instead (for a long list of files: xargs inside the sandbox)';

/** Each of the command's arguments and each `NAME=value` of its environment within MAX_ARG_BYTES; never prints a value. */
export function requireArgumentSizes(command: readonly string[], env: Readonly<Record<string, string>>): void {
  command.forEach((arg, i) => {
    const bytes = Buffer.byteLength(arg);
    if (bytes >= MAX_ARG_BYTES) tooLong(i === 0 ? 'the program name' : `argument ${i} of the command`, bytes);
  });
  for (const [name, value] of Object.entries(env)) {
    const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value);
    if (bytes >= MAX_ARG_BYTES) tooLong(`the environment variable ${name}`, bytes);
  }
}

function tooLong(what: string, bytes: number): never {
  throw new IsolateError('E_USAGE', `${what} is ${bytes} bytes; Linux passes at most ${MAX_ARG_BYTES - 1} bytes in one argument or environment entry`, {
    fix: PASS_ANOTHER_WAY,
  });
}

/** bubblewrap's own arguments (`parsed`: after its program name, with those piped to --args) and the command's within BWRAP_MAX_ARGS. */
export function requireBwrapArgCount(parsed: number, command: readonly string[]): void {
  if (parsed <= BWRAP_MAX_ARGS) return;
  throw new IsolateError(
    'E_USAGE',
    `bubblewrap parses at most ${BWRAP_MAX_ARGS} arguments and this run needs ${parsed}: ${command.length} for the command, the rest for the sandbox`,
    { fix: `${PASS_ANOTHER_WAY}, or run with --backend nsjail` },
  );
}

/** A start the kernel refused as too large (E2BIG: the arguments and environment together past its limit) as the user's error. */
export function tooLargeToStart(e: unknown): IsolateError | undefined {
  if ((e as NodeJS.ErrnoException | null)?.code !== 'E2BIG') return undefined;
  return new IsolateError('E_USAGE', 'the command and its environment are too large to start (E2BIG: past the kernel\'s limit for one program\'s arguments and environment together); the command was not run', {
    fix: PASS_ANOTHER_WAY,
    cause: e,
  });
}
