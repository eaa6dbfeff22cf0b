/**
 * The init that runs as PID 1 of a sandbox whose launcher starts the
 * command as that PID 1 (nsjail, an OCI runtime), where the kernel drops
 * every signal without a handler (`kill $$`, SIGXCPU, SIGXFSZ). It keeps
 * the caller's stderr on `stderrFd` for the command and closes its own (so
 * a shell's "Terminated" notices never reach the user), runs the command as
 * its child in a subshell that execs it, and exits with the command's
 * status: 128+N when signal N killed it.
 *
 * First it tells run/ the sandbox is set up (one byte on `startedFd`, Plan
 * fds.started) and waits for its "go" (sent after run/ has checked the
 * mounts of Plan.pathFds); without it (a mount was swapped, or isolate is
 * gone) it exits 125 and the command never runs. It closes the descriptor
 * before starting the command. Pure.
 */
export const INIT_SHELL = '/bin/sh';
export const INIT_NAME = 'isolate-init';

export function initScript(startedFd: number, stderrFd: number): string {
  const s = startedFd;
  const e = stderrFd;
  return `exec ${e}>&2 2>&-; printf . >&${s}; read -r go <&${s} && [ "$go" = go ] || exit 125; exec ${s}>&-; (exec "$@" 2>&${e} ${e}>&-); exit $?`;
}
