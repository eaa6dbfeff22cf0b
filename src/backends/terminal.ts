/**
 * A terminal of its own for the command (pure): when the caller asked for
 * one (isolate's stdin and stdout are terminals, no --no-tty) and python3 is
 * visible inside the sandbox, the command runs under the helper
 * (terminal-helper.ts), which makes a pseudo-terminal on the sandbox's own
 * /dev/pts. Without python3 the command runs as before, without a
 * controlling terminal, and the plan says why (a warning, never an error:
 * nothing the sandbox enforces depends on it).
 */
import type { MountRule } from '../profile/types.js';
import { reachable } from './command.js';
import { TERMINAL_HELPER } from './terminal-helper.js';
import type { HostFacts, TerminalPlan } from './types.js';

/** Run the helper with its own defaults only: no site packages, no PYTHON* variables, no bytecode written. */
const PYTHON_FLAGS = ['-I', '-S', '-B', '-c', TERMINAL_HELPER];

export interface TerminalSetup {
  /** What comes before the command inside the sandbox (empty without a terminal). */
  prefix: string[];
  plan?: TerminalPlan;
}

/** What provides python3 where it is missing. */
function installPython(platform: NodeJS.Platform): string {
  return platform === 'darwin' ? "install Apple's command line developer tools (xcode-select --install), whose python3 /usr/bin/python3 runs" : 'install python3 (sudo apt-get install -y python3-minimal)';
}

/**
 * The helper's prefix and the plan's `terminal`, with the control descriptor
 * at `controlFd`. `leader`: the helper leads the launcher's session and takes
 * the terminal itself, so the command stays in the launcher's process group
 * (sandbox-exec, which reaches the sandbox through that group).
 */
export function planTerminal(host: Pick<HostFacts, 'terminal' | 'platform'>, rules: readonly MountRule[], controlFd: number, leader = false): TerminalSetup {
  if (host.terminal === undefined) return { prefix: [] };
  const python = host.terminal.python;
  if (python === undefined || !reachable(rules, python)) {
    const why = python === undefined ? 'python3 is not installed' : `${python} is not visible inside the sandbox`;
    return {
      prefix: [],
      plan: {
        given: false,
        reason: `the command runs without a terminal of its own (no job control, no /dev/tty, no window size): ${why}`,
        fix: python === undefined ? `${installPython(host.platform)}, or pass --no-tty` : `add --allow-read ${python} and its library, or pass --no-tty`,
      },
    };
  }
  return { prefix: [python, ...PYTHON_FLAGS, ...(leader ? ['--leader'] : []), String(controlFd)], plan: { given: true, controlFd } };
}

/** The summary's line for a terminal plan. */
export function terminalNote(plan: TerminalPlan | undefined): string[] {
  if (plan === undefined) return [];
  if (!plan.given) return [plan.reason];
  return [`terminal: a pseudo-terminal of the sandbox's own (python3 helper); window sizes on fd ${plan.controlFd}; isolate relays your terminal and filters what acts outside the screen`];
}
