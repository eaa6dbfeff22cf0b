/**
 * The options commands share, as commander Options (a new instance for each
 * command), and the typed values they parse to. The backend choices come
 * from their one definition, in backends/types.ts.
 */
import { Option, type Command } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../backends/types.js';
import type { IsolateOptions } from '../index.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function repeatable(flags: string, help: string): Option {
  return new Option(flags, `${help} (repeatable)`).argParser(collect);
}

export const jsonOption = (help = 'machine-readable output'): Option => new Option('--json', help);

export const debugOption = (): Option => new Option('--debug', "stack traces and timings for isolate's own errors");

export const profileOption = (help = 'profile: built-in name, user profile name or file'): Option =>
  new Option('-p, --profile <name|path>', help).env('ISOLATE_PROFILE').default('default');

export const backendOption = (): Option =>
  new Option('--backend <name>', 'enforcement backend').choices(BACKEND_CHOICES).env('ISOLATE_BACKEND').default('auto');

/** The domain rules of a filtered network: run's and the proxy's. */
export function domainOptions(): Option[] {
  return [
    repeatable('--allow-domain <pattern>', 'allow host, *.suffix or IP, optionally :port (default 80 and 443; implies --net filtered)'),
    repeatable('--deny-domain <pattern>', 'deny host, *.suffix or IP on every port (or only :port); deny wins over allow'),
  ];
}

/** What the sandbox looks like: every option of run, explain and check; profiles show takes them but --profile and --backend. */
function policyOptions(): Option[] {
  return [
    repeatable('--allow-read <path>', 'also mount <path> read-only'),
    repeatable('--allow-write <path>', 'also mount <path> read-write'),
    repeatable('--deny <path>', 'hide <path> from the sandbox'),
    repeatable('--env <NAME[=VALUE]>', 'pass NAME from your environment, or set it'),
    new Option('--net <mode>', 'network: none, host, or filtered (only allowed domains, through a proxy)').choices(['none', 'host', 'filtered']),
    ...domainOptions(),
    repeatable(
      '--credential <NAME@host[,host]>',
      "the command gets a placeholder in NAME; isolate's proxy sends your NAME's value to those hosts only (needs --net filtered). aws:AWS@host[,host]: placeholder AWS keys; the proxy signs their requests again with your AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
    ),
    new Option('--cwd <dir>', 'working directory (and ${CWD}); default: the current directory'),
    new Option('--timeout <duration>', 'wall-clock limit (30s, 5m); then SIGTERM, SIGKILL, exit 124'),
    new Option('--cpu <duration>', 'CPU time per process (RLIMIT_CPU)'),
    new Option('--memory <size>', 'data segment per process, e.g. 512M (RLIMIT_DATA), and the whole sandbox where a cgroup is usable; unlimited removes the ceiling'),
    new Option('--processes <n>', 'processes in the sandbox (RLIMIT_NPROC; pids.max where a cgroup is usable); unlimited removes the ceiling'),
    new Option('--tmpfs-size <size>', 'the size of each tmpfs (/tmp, a hidden home, /dev/shm), e.g. 1G; unlimited removes the ceiling'),
    new Option('--open-files <n>', 'open files per process (RLIMIT_NOFILE)'),
    new Option('--file-size <size>', 'largest file a process may write (RLIMIT_FSIZE)'),
    jsonOption(),
    debugOption(),
  ];
}

export function addOptions(cmd: Command, options: readonly Option[]): Command {
  for (const o of options) cmd.addOption(o);
  return cmd;
}

/** The options of run, explain and check. */
export function addSandboxOptions(cmd: Command): Command {
  return addOptions(cmd, [profileOption(), backendOption(), ...policyOptions()]);
}

/** The options of profiles show: the sandbox options but --profile and --backend (the profile is its argument). */
export function addPolicyOptions(cmd: Command): Command {
  return addOptions(cmd, policyOptions());
}

/** The values of the policy options (commander's camelCase names): the API's options, and the limits as typed. */
export interface PolicyFlags extends Pick<IsolateOptions, 'allowRead' | 'allowWrite' | 'deny' | 'env' | 'net' | 'allowDomain' | 'denyDomain' | 'credential' | 'cwd'> {
  timeout?: string;
  cpu?: string;
  memory?: string;
  processes?: string;
  tmpfsSize?: string;
  openFiles?: string;
  fileSize?: string;
  json?: true;
  debug?: true;
}

export interface SandboxFlags extends PolicyFlags {
  profile: string;
  backend: BackendChoice;
}
