/** The command-line contract: every command, option and its help text. */
import type { CommandSpec, OptionSpec } from './args.js';

const sandboxOptions: OptionSpec[] = [
  { long: 'profile', short: 'p', value: 'name|path', help: 'profile: built-in name, user profile name or file (default: $ISOLATE_PROFILE or "default")' },
  { long: 'backend', value: 'name', choices: ['auto', 'bwrap', 'nsjail', 'sandbox-exec'], help: 'enforcement backend (default: $ISOLATE_BACKEND or auto)' },
  { long: 'allow-read', value: 'path', repeatable: true, help: 'also mount <path> read-only' },
  { long: 'allow-write', value: 'path', repeatable: true, help: 'also mount <path> read-write' },
  { long: 'deny', value: 'path', repeatable: true, help: 'hide <path> from the sandbox' },
  { long: 'env', value: 'NAME[=VALUE]', repeatable: true, help: 'pass NAME from your environment, or set it' },
  { long: 'net', value: 'mode', choices: ['none', 'host', 'filtered'], help: 'network: none, host, or filtered (only allowed domains, through a proxy)' },
  { long: 'allow-domain', value: 'pattern', repeatable: true, help: 'allow host, *.suffix or IP, optionally :port (default 80 and 443; implies --net filtered)' },
  { long: 'deny-domain', value: 'pattern', repeatable: true, help: 'deny host, *.suffix or IP on every port (or only :port); deny wins over allow' },
  { long: 'cwd', value: 'dir', help: 'working directory (and ${CWD}); default: the current directory' },
  { long: 'timeout', value: 'duration', help: 'wall-clock limit (30s, 5m); then SIGTERM, SIGKILL, exit 124' },
  { long: 'cpu', value: 'duration', help: 'CPU time per process (RLIMIT_CPU)' },
  { long: 'memory', value: 'size', help: 'data segment per process, e.g. 512M (RLIMIT_DATA), and the whole sandbox where a cgroup is usable; unlimited removes the ceiling' },
  { long: 'processes', value: 'n', help: 'processes in the sandbox (RLIMIT_NPROC; pids.max where a cgroup is usable); unlimited removes the ceiling' },
  { long: 'tmpfs-size', value: 'size', help: 'the size of each tmpfs (/tmp, a hidden home, /dev/shm), e.g. 1G; unlimited removes the ceiling' },
  { long: 'open-files', value: 'n', help: 'open files per process (RLIMIT_NOFILE)' },
  { long: 'file-size', value: 'size', help: 'largest file a process may write (RLIMIT_FSIZE)' },
  { long: 'json', help: 'machine-readable output' },
  { long: 'debug', help: 'stack traces and timings for isolate\'s own errors' },
];

export const runSpec: CommandSpec = {
  name: 'run',
  usage: 'isolate run [options] -- <command> [args...]',
  summary:
    'Run <command> inside the sandbox the profile describes. Its stdin, stdout and stderr are yours and isolate prints nothing on success; the exit code is the command\'s (128+N for signal N, 125 isolate failed, 126 not executable, 127 not found). With --json, output is captured and one JSON report is printed.',
  options: [
    ...sandboxOptions,
    { long: 'report', value: 'file', help: 'write the JSON run report to <file>; stdio passes through untouched' },
    { long: 'audit-log', value: 'file', help: 'record the run in <file> (default: $XDG_STATE_HOME/isolate/audit.jsonl)' },
    { long: 'no-audit', help: 'do not record this run in the audit log' },
  ],
  positionals: 'command',
};

export const explainSpec: CommandSpec = {
  name: 'explain',
  usage: 'isolate explain [options] -- <command> [args...]',
  summary: 'Print what `isolate run` would execute: the exact command line and a readable summary. Runs nothing.',
  options: sandboxOptions,
  positionals: 'command',
};

export const profilesSpec: CommandSpec = {
  name: 'profiles',
  usage: 'isolate profiles [list] | isolate profiles show [options] <name|path>',
  summary: 'List the built-in and user profiles, or print one fully resolved (after extends, variables and overrides).',
  options: sandboxOptions.filter((o) => o.long !== 'profile' && o.long !== 'backend'),
  positionals: 'some',
};

export const doctorSpec: CommandSpec = {
  name: 'doctor',
  usage: 'isolate doctor [--json]',
  summary: 'Check that this host can enforce the sandbox, and print the fix for every problem. Exits 1 when `isolate run` with the default profile would fail.',
  options: [{ long: 'json', help: 'machine-readable output' }],
  positionals: 'none',
};

export const auditSpec: CommandSpec = {
  name: 'audit',
  usage: 'isolate audit verify [file] | isolate audit show [file] [--since <time>] [--command <glob>] [--denied] [--json] | isolate audit seal [file]',
  summary:
    "verify: check the audit log's hash chain, and the sealed logs it continues; exit 0 when intact, else name the first bad line and why. show: a table of recorded runs (--json: one record per line). seal: keep a damaged log aside (renamed <file>.sealed-<time>) and start a new log that continues its chain; exit 1 when the log is intact.",
  options: [
    { long: 'since', value: 'time', help: 'runs started since an ISO time or a relative time (30m, 2h, 7d)' },
    { long: 'command', value: 'glob', help: 'runs whose command matches (* matches anything)' },
    { long: 'denied', help: 'runs with something refused: the command, or a network connection' },
    { long: 'json', help: 'machine-readable output' },
  ],
  positionals: 'some',
};

export const checkSpec: CommandSpec = {
  name: 'check',
  usage: 'isolate check [options] -- <command> [args...]',
  summary: "Say whether the profile's command policy lets <command> start, and why. Runs nothing. Exit 0 allowed, 126 refused.",
  options: sandboxOptions,
  positionals: 'command',
};

export const selftestSpec: CommandSpec = {
  name: 'selftest',
  usage: 'isolate selftest [-p profile] [--json]',
  summary:
    'Try to escape the sandbox the profile builds: read planted secrets, write outside, inject keystrokes, ptrace, nest namespaces, reach the host network and sockets, fork-bomb, exhaust memory and CPU. Prints a scorecard; exits 1 when any probe escapes.',
  options: [
    { long: 'profile', short: 'p', value: 'name|path', help: 'profile to test (default: $ISOLATE_PROFILE or "default")' },
    { long: 'backend', value: 'name', choices: ['auto', 'bwrap', 'nsjail', 'sandbox-exec'], help: 'enforcement backend' },
    { long: 'json', help: 'machine-readable output' },
  ],
  positionals: 'none',
};

export const COMMANDS = [runSpec, explainSpec, checkSpec, profilesSpec, doctorSpec, selftestSpec, auditSpec];

export const MAIN_HELP = `usage: isolate <command> [options]

Run a command inside an OS-level sandbox described by a profile.

commands:
  run      [options] -- <command> [args...]   run a command in the sandbox
  explain  [options] -- <command> [args...]   show what run would do; runs nothing
  check    [options] -- <command> [args...]   would the command policy allow it?
  profiles [list] | show <name|path>         list profiles, or print one resolved
  doctor   [--json]                          check this host
  selftest [-p profile] [--json]             try to escape the sandbox; print a scorecard
  audit    verify | show | seal [file]       check, read or seal the audit log

  isolate <command> --help    options of one command
  isolate --version

exit codes: the command's own; 128+N killed by signal N; 125 isolate failed
(bad profile, backend missing, cannot enforce); 126 not executable; 127 not found.
`;
