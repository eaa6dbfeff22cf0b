/**
 * The directories where the host's services keep their sockets: /tmp
 * (ssh-agent, tmux, X11), /run (Docker, containerd, the D-Bus system bus,
 * systemd), the user's runtime directory /run/user/<uid> (the session
 * bus, podman, gpg-agent, PipeWire, Wayland) and the caller's $TMPDIR
 * (ssh-agent makes its socket there; on macOS it is the user's own temp
 * directory under /var/folders, where an editor's server listens too). A read-only mount does not
 * stop `connect()` to a socket file, and a service that answers the
 * sandboxed command acts outside the sandbox: tmux types into your shells,
 * ssh-agent signs with your keys, Docker starts a privileged container.
 *
 * So no rule may show one of them whole, nor a directory that holds one
 * (`/var`); the working directory is no exception (a run started in /tmp
 * would otherwise lose its private /tmp). A rule may name a file or a
 * directory inside them: that is sharing one service on purpose. Private
 * copies (`tmpfs`) and hiding (`deny`) are always allowed.
 */
import { posix } from 'node:path';
import { IsolateError } from '../errors.js';
import { isWithin } from './mount-rules.js';
import type { MountKind } from './types.js';

/** Shared by every user's services; refused, and so is every directory above one. */
export const SOCKET_DIRS = ['/tmp', '/var/tmp', '/run', '/var/run', '/run/user', '/private/tmp', '/private/var/tmp', '/private/var/run'] as const;

/**
 * The caller's own socket directories as real paths: `$XDG_RUNTIME_DIR` and `$TMPDIR`, each resolved by `real`
 * (links followed, undefined when it does not exist), else as written. macOS names its temp directory through a link
 * (/var/folders is /private/var/folders): a rule's real path must meet the real directory.
 */
export function ownSocketDirs(env: Readonly<Record<string, string | undefined>>, real: (path: string) => string | undefined): string[] {
  return [env['XDG_RUNTIME_DIR'], env['TMPDIR']].flatMap((dir) => {
    if (dir === undefined || !dir.startsWith('/')) return [];
    const plain = posix.normalize(dir).replace(/(?<=.)\/+$/, '');
    return plain === '/' ? [] : [real(plain) ?? plain];
  });
}

/** A user's runtime directory (`/run/user/<uid>`, any user's), or one of the caller's own (ownSocketDirs). */
function isUsersDir(real: string, own: readonly string[]): boolean {
  return /^\/run\/user\/[^/]+$/.test(real) || own.includes(real);
}

/** The socket directory that `real` is or holds, if any; `own`: the caller's (ownSocketDirs). */
export function socketDirShown(real: string, own: readonly string[]): string | undefined {
  if (isUsersDir(real, own)) return real;
  return SOCKET_DIRS.find((dir) => isWithin(dir, real));
}

/** Throw when a read or write rule at the real path `real` would show a directory of the host's service sockets whole. */
export function checkSocketDir(kind: MountKind, real: string, from: string, written: string, own: readonly string[]): void {
  if (kind !== 'read' && kind !== 'write') return;
  const dir = socketDirShown(real, own);
  if (dir === undefined) return;
  const what = real === dir ? real : `${real}, which holds ${dir}`;
  throw new IsolateError('E_PATH_INVALID', `${from}: "${written}" is ${what}, where the host's services keep their sockets (ssh-agent, tmux, X11, D-Bus, Docker); a command that connects to one acts outside the sandbox, so isolate will not show it whole`, {
    fix:
      real === dir
        ? `run isolate from a directory of its own (make one, or pass --cwd <dir>); to share one service, name its socket itself (--allow-read ${dir}/<name>)`
        : `name the directories the command needs inside ${real} instead (--allow-read ${real}/<name>), and run isolate from a directory of its own (--cwd <dir>)`,
  });
}
