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

/**
 * The gate bwrap starts in place of the command (the sandbox's second
 * process, beside bwrap's own init): it tells run/ once bwrap's init has
 * armed its parent-death signal, and starts the command only on run/'s
 * "go". bwrap's init arms that signal only once it has set the sandbox up
 * and started this process; an isolate killed before (its bwrap with it)
 * left an init whose parent is now the host's, which no death signal
 * reaches: it ran the command to the end, with no timeout, no search after
 * the run, and the placeholders it relied on removed by the next run. The
 * init reaps orphans only in the loop it enters after arming, so a child
 * left to it (`: &` from a subshell that has exited) still there as a
 * zombie says the init has not armed yet; once it is gone, one byte on
 * `gateFd`, then "go" awaited: isolate alive at that moment means bwrap
 * was, when the init armed against it. Without "go" (isolate gone, or
 * its run ended) the gate exits 125 and the command never starts. It
 * closes the descriptor and execs the command, which stays the second
 * process. An init that never reaps the child (GATE_SPINS looks, a second
 * or two) fails the run (125) rather than leave the gate spinning. Pure.
 */
export const GATE_NAME = 'isolate-gate';
const GATE_SPINS = 1_000_000;

export function gateScript(gateFd: number): string {
  const g = gateFd;
  return `p=$(: & echo $!); n=0; while kill -0 "$p" 2>/dev/null; do n=$((n+1)); [ "$n" -lt ${GATE_SPINS} ] || exit 125; done; printf . >&${g}; read -r go <&${g} && [ "$go" = go ] || exit 125; exec ${g}>&-; exec "$@"`;
}
