/**
 * Descriptors isolate's process holds without close-on-exec that it does not
 * pass on purpose: the caller's (`isolate run -- cmd 200</`), or, under the
 * API, whatever the host program left open. A child inherits them, and
 * bubblewrap passes every descriptor it has on to the command: one on a
 * directory reads what the profile hides (/proc/self/fd/200/etc/shadow), one
 * on a file writes where it forbids. The command must get exactly stdin,
 * stdout, stderr and what the plan hands over.
 *
 * How, weighed against the other ways:
 * - Closing them in isolate's own process (the CLI at start-up) would be
 *   right for the CLI, but the API runs inside someone else's program, whose
 *   descriptors are not isolate's to close; and Node cannot mark a
 *   descriptor close-on-exec (it has no fcntl).
 * - Only the child may lose them, and libuv changes a child's descriptor
 *   only through the stdio array: every slot that names a descriptor is
 *   dup2()ed over before exec; an 'ignore' slot from 3 on is left as it is.
 *   (execa, through src/process.ts, hands the array to child_process.spawn
 *   as it is: 'pipe', 'ignore', 'inherit' and descriptor numbers alike.)
 *   So run/ lists /proc/self/fd when it starts the launcher and puts
 *   /dev/null on the slot of each such descriptor: the launcher never gets
 *   the caller's file, directory or socket.
 * - That still leaves a descriptor (on /dev/null) at that number, which the
 *   launcher closes before the command starts: bwrap's `--args N` reads N to
 *   its end and closes it (Plan.closeFdFlag), during argument parsing, with
 *   no process or file added; nsjail closes every descriptor but its pass_fd
 *   list itself. A wrapper that closes them inside the sandbox would cost an
 *   exec per run and needs a program the profile may not mount.
 * - macOS has no /proc: there libuv starts every child with posix_spawn and
 *   POSIX_SPAWN_CLOEXEC_DEFAULT (libuv 1.44 and later, in every Node isolate
 *   supports), so sandbox-exec gets nothing but the stdio array.
 *
 * Node and libuv open every descriptor close-on-exec, and Node marks 0-15
 * (and the run of open ones right after) close-on-exec when it starts, so
 * the descriptors found are above a gap; a native addon that opens one
 * without O_CLOEXEC on another thread between the listing and the spawn is
 * not seen (nsjail still closes it).
 */
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { IsolateError, errnoCode } from '../errors.js';
import type { StdioSlot } from '../process.js';

/** O_CLOEXEC as /proc/self/fdinfo/N shows it in its octal `flags:` line. */
const O_CLOEXEC = 0o2000000;

/** The start of /proc/self/fdinfo/N: `pos:` then `flags:` come first. */
const FDINFO_HEAD = 256;

/** Whether /proc/self/fdinfo/N shows descriptor N without close-on-exec; undefined when N is closed by now. */
function inheritable(fd: number, buf: Buffer): boolean | undefined {
  let length: number;
  try {
    // open and read rather than readFileSync: /proc reports size 0, which costs readFileSync several reads per file.
    const info = openSync(`/proc/self/fdinfo/${fd}`, 'r');
    try {
      length = readSync(info, buf, 0, buf.length, 0);
    } finally {
      closeSync(info);
    }
  } catch {
    return undefined; // closed since the listing (the listing's own descriptor is)
  }
  const flags = /^flags:\s*([0-7]+)$/m.exec(buf.toString('latin1', 0, length))?.[1];
  // No flags line: count it as inherited, as putting /dev/null on its slot does no harm.
  return flags === undefined || (Number.parseInt(flags, 8) & O_CLOEXEC) === 0;
}

/**
 * The descriptors from 3 up that a child started now would inherit (Linux;
 * empty elsewhere, see above), among those `candidate` accepts (all by
 * default): only those are looked up in /proc/self/fdinfo.
 */
export function inheritableFds(candidate: (fd: number) => boolean = () => true): number[] {
  if (process.platform !== 'linux') return [];
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch (e: unknown) {
    throw new IsolateError('E_SANDBOX_SETUP', 'cannot list the descriptors isolate holds (/proc/self/fd), so cannot keep them out of the sandbox; the command was not run', {
      detail: errnoCode(e) ?? String(e),
      fix: 'run isolate where /proc is mounted',
      cause: e,
    });
  }
  const buf = Buffer.alloc(FDINFO_HEAD);
  return names
    .map(Number)
    .filter((fd) => Number.isInteger(fd) && fd >= 3 && candidate(fd) && inheritable(fd, buf) === true)
    .sort((a, b) => a - b);
}

/**
 * The launcher's argv and stdio with /dev/null (`devNull`) on each of
 * `strays`, and `closeFlag N` after the launcher (argv[launcherAt]) for
 * each, when the launcher closes them on that flag. Pure.
 */
export function withStraysShut(
  argv: readonly string[],
  stdio: readonly StdioSlot[],
  strays: readonly number[],
  devNull: number,
  closeFlag: string | undefined,
  launcherAt = 0,
): { argv: string[]; stdio: StdioSlot[] } {
  const slots = [...stdio];
  for (const fd of strays) {
    while (slots.length <= fd) slots.push('ignore');
    slots[fd] = devNull;
  }
  const closes = closeFlag === undefined ? [] : strays.flatMap((fd) => [closeFlag, String(fd)]);
  const at = launcherAt + 1;
  return { argv: argv.length < at ? [...argv] : [...argv.slice(0, at), ...closes, ...argv.slice(at)], stdio: slots };
}

/**
 * How to start the launcher so that no inherited descriptor reaches the
 * command: `close` releases the /dev/null descriptor once it is started.
 */
export function shutInherited(
  argv: readonly string[],
  stdio: readonly StdioSlot[],
  closeFlag: string | undefined,
  launcherAt = 0,
): { argv: string[]; stdio: StdioSlot[]; close: () => void } {
  // A descriptor with a slot of its own is replaced by what isolate passes there: only the others are looked up
  // (the launcher's own, one per protected path, would cost a read of /proc each).
  const strays = inheritableFds((fd) => stdio[fd] === undefined || stdio[fd] === 'ignore');
  if (strays.length === 0) return { argv: [...argv], stdio: [...stdio], close: () => undefined };
  const devNull = openSync('/dev/null', 'r');
  return { ...withStraysShut(argv, stdio, strays, devNull, closeFlag, launcherAt), close: () => closeSync(devNull) };
}
