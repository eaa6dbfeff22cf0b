/**
 * `syscalls.preset: default` on macOS. Linux's default preset is a seccomp
 * filter (seccomp/presets.ts); macOS has no seccomp, and Seatbelt checks
 * operations rather than system calls. These rules cover the same ground
 * with what SBPL can express: other processes' memory and control (ptrace's
 * counterpart is the task port), privilege changes (set-user-ID programs
 * and bits), kernel extensions, privileged kernel operations and kernel
 * settings, drivers.
 *
 * The profile already starts from `(deny default)`, so most of these are
 * refused without them; they are written last, after every allow, so that
 * no allow above (the path rules' process-exec, `mach-host*`) can undo them,
 * and `isolate explain` lists them. Only operation names that Apple's own
 * profiles use on current macOS are named: sandbox-exec rejects a profile
 * with an unknown one. Constant text only, no value of the policy.
 */

export interface HardeningRule {
  /** SBPL operations the rule denies. */
  ops: readonly string[];
  /** Its filters, SBPL text (constants); none: the operations are denied everywhere. */
  filters?: readonly string[];
  /** Why, for the profile's comments and explain. */
  reason: string;
}

/** Set-user-ID or set-group-ID files. */
const SETID_FILE = '(require-any (file-mode #o4000) (file-mode #o2000))';

export const SEATBELT_DEFAULT: readonly HardeningRule[] = Object.freeze([
  { ops: ['mach-priv-task-port'], reason: "task_for_pid: another process's task port reads and writes its memory and controls its threads (ptrace and process_vm_readv on Linux)" },
  { ops: ['mach-task-name'], reason: "task_name_for_pid: another process's name port, its memory map and statistics" },
  {
    ops: ['process-exec'],
    filters: [SETID_FILE],
    reason: "starting a set-user-ID or set-group-ID program (sudo, su, login; on macOS also ps and top): it would run with its owner's privileges",
  },
  { ops: ['file-write-setugid'], reason: 'setting the set-user-ID or set-group-ID bit: a program left in a writable path would run with your privileges when someone on the host starts it' },
  { ops: ['mach-priv-host-port'], reason: 'the privileged host port: control of the kernel, the processors and every task' },
  { ops: ['mach-host-special-port-set'], reason: 'replacing host-wide special ports, which every process on the machine talks to' },
  { ops: ['system-kext*'], reason: 'loading, unloading or querying kernel extensions' },
  { ops: ['system-privilege'], reason: 'privileged kernel operations (what root may do)' },
  { ops: ['sysctl-write'], reason: 'changing kernel settings' },
  { ops: ['iokit-open'], reason: 'opening IOKit drivers: kernel attack surface, hardware and firmware variables' },
] satisfies HardeningRule[]);

/** What every profile allows of other processes, whatever the preset (the process rules at the top of the profile). */
export const SAME_SANDBOX_LINES: readonly string[] = Object.freeze([
  'signal, process-info*: allowed only for processes of this sandbox (target same-sandbox); every other process is refused (deny default), whatever the preset',
]);

/** The rule as SBPL text. */
export function hardeningText(rule: HardeningRule): string {
  return `(deny ${rule.ops.join(' ')}${(rule.filters ?? []).map((f) => ` ${f}`).join('')})`;
}

/** One line per rule for explain: `deny mach-priv-task-port: reason`; then what holds whatever the preset. */
export function describeHardening(preset: string): string[] {
  const rules = preset === 'default' ? SEATBELT_DEFAULT.map((r) => `${hardeningText(r)}: ${r.reason}`) : [];
  return [...rules, ...SAME_SANDBOX_LINES];
}
