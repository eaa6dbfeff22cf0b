/**
 * The command-line contract: every command and option with its help text, as
 * one commander tree. Help, usage errors, "did you mean" and docs/usage.md's
 * usage block (checked by a test) all come from it. A command's module is
 * loaded only when that command runs.
 */
import { Command, Option } from 'commander';
import type { CliContext } from './context.js';
import { EXPORT_FORMATS } from '../backends/types.js';
import { addOptions, addPolicyOptions, addSandboxOptions, backendOption, debugOption, domainOptions, jsonOption, profileOption } from './options.js';

/** What a command's handler gets: its positional arguments and its parsed options. */
export interface Invocation {
  args: string[];
  options: Record<string, unknown>;
  /** Where an option's value came from: 'cli', 'env' or 'default'. */
  source(name: string): string | undefined;
}

export type Handler = (inv: Invocation, ctx: CliContext) => Promise<number>;

/** Runs a command's handler; main passes one that keeps the exit code. */
export type Dispatch = (cmd: Command, load: () => Promise<Handler>) => Promise<void>;

const EXIT_CODES = `exit codes: the command's own; 128+N killed by signal N; 124 timeout; 125 isolate failed
(bad profile or option, backend missing, cannot enforce); 126 not executable or refused; 127 not found.`;

const COMMAND_ARGUMENT = 'the command and its arguments: everything from the first argument that is not an option, or after --';

function withCommand(cmd: Command, summary: string, description: string): Command {
  return cmd.summary(summary).description(description).usage('[options] -- <command> [args...]').argument('[command...]', COMMAND_ARGUMENT).passThroughOptions();
}

/** Declares one top-level command on `cmd` (already named): its help, options, subcommands and action. */
type Declare = (cmd: Command, dispatch: Dispatch) => void;

/** commander calls an action with the arguments, the options and, last, the command. */
function act(dispatch: Dispatch, load: () => Promise<Handler>): (...a: unknown[]) => Promise<void> {
  return (...a) => dispatch(a[a.length - 1] as Command, load);
}

/** --audit-log and --no-audit, for what a command records (run: the run; mcp: the calls). */
function auditOptions(recorded: string, notRecorded = recorded): Option[] {
  return [
    new Option('--audit-log <file>', `record ${recorded} in <file> (default: $XDG_STATE_HOME/isolate/audit.jsonl)`),
    new Option('--no-audit', `do not record ${notRecorded} in the audit log`),
  ];
}

const declareRun: Declare = (cmd, dispatch) => {
  withCommand(
    cmd,
    'run a command in the sandbox',
    "Run <command> inside the sandbox the profile describes. Its stdin, stdout and stderr are yours and isolate prints nothing on success; the exit code is the command's (128+N for signal N, 125 isolate failed, 126 not executable, 127 not found). With --json, output is captured and one JSON report is printed.",
  );
  addOptions(addSandboxOptions(cmd), [
    new Option('--report <file>', 'write the JSON run report to <file>; stdio passes through untouched'),
    ...auditOptions('the run', 'this run'),
    new Option('--no-tty', 'no terminal of its own for the command, even when your stdin and stdout are terminals'),
    new Option('--raw-terminal', 'pass every escape sequence to your terminal (clipboard writes and report requests too)'),
  ]);
  cmd.action(act(dispatch, async () => (await import('./run.js')).runCommand));
};

const declareExplain: Declare = (cmd, dispatch) => {
  withCommand(cmd, 'show what run would do; runs nothing', 'Print what `isolate run` would execute: the exact command line and a readable summary. Runs nothing.');
  addSandboxOptions(cmd).action(act(dispatch, async () => (await import('./explain.js')).explainCommand));
};

const declareCheck: Declare = (cmd, dispatch) => {
  withCommand(cmd, 'would the command policy allow it?', "Say whether the profile's command policy lets <command> start, and why. Runs nothing. Exit 0 allowed, 126 refused.");
  addSandboxOptions(cmd).action(act(dispatch, async () => (await import('./check.js')).checkCommand));
};

const declareProfiles: Declare = (profiles, dispatch) => {
  profiles
    .summary('list profiles, or print one resolved')
    .description('List the built-in and user profiles, or print one fully resolved (after extends, variables and overrides).')
    .usage('[list] | show [options] <name|path>');
  const load = async (): Promise<typeof import('./profiles.js')> => import('./profiles.js');
  const list = profiles.command('list', { isDefault: true }).description('List the built-in and user profiles.');
  addOptions(list, [jsonOption()]).action(act(dispatch, async () => (await load()).listProfiles));
  const show = profiles
    .command('show')
    .description('Print one profile fully resolved (after extends, variables and the options given here).')
    .argument('<name|path>', 'built-in name, user profile name or file');
  addPolicyOptions(show).action(act(dispatch, async () => (await load()).showProfile));
  // `profiles` alone lists; a word that names no subcommand is an unknown command, not an argument of list.
  profiles.hook('preSubcommand', (cmd, sub) => {
    const word = cmd.args[0];
    if (sub.name() === 'list' && word !== undefined && word !== 'list' && !word.startsWith('-')) {
      cmd.error(`error: unknown command '${word}'`, { code: 'commander.unknownCommand' });
    }
  });
};

const declareDoctor: Declare = (cmd, dispatch) => {
  cmd
    .summary('find out whether this host can enforce the sandbox')
    .description('Find out whether this host can enforce the sandbox, and print the fix for every problem. Exits 1 when `isolate run` with the default profile would fail.');
  addOptions(cmd, [jsonOption()]).action(act(dispatch, async () => (await import('./doctor.js')).doctorCommand));
};

const declareSelftest: Declare = (cmd, dispatch) => {
  cmd
    .summary('try to escape the sandbox; print a scorecard')
    .description(
      'Try to escape the sandbox the profile builds: read planted secrets, write outside, inject keystrokes, ptrace, nest namespaces, reach the host network and sockets, fork-bomb, exhaust memory and CPU. Prints a scorecard; exits 1 when any probe escapes.',
    );
  addOptions(cmd, [profileOption('profile to test'), backendOption(), jsonOption()]).action(act(dispatch, async () => (await import('./selftest.js')).selftestCommand));
};

const declareAudit: Declare = (audit, dispatch) => {
  audit.summary('verify, read or seal the audit log').description('Verify, read or seal the audit log (default: $XDG_STATE_HOME/isolate/audit.jsonl).').usage('verify | show | seal [file]');
  const load = async (): Promise<typeof import('./audit.js')> => import('./audit.js');
  const file = (cmd: Command): Command => cmd.argument('[file]', 'the audit log (default: $XDG_STATE_HOME/isolate/audit.jsonl)');
  const verify = file(audit.command('verify')).description(
    "Verify the audit log's hash chain, and the sealed logs it continues: exit 0 when intact, else name the first bad line and why.",
  );
  addOptions(verify, [jsonOption()]).action(act(dispatch, async () => (await load()).verifyCommand));
  const show = file(audit.command('show')).description('A table of recorded runs (--json: one record per line).');
  addOptions(show, [
    new Option('--since <time>', 'runs started since an ISO time or a relative time (30m, 2h, 7d)'),
    new Option('--command <glob>', 'runs whose command matches (* matches anything)'),
    new Option('--denied', 'runs with something refused: the command, or a network connection'),
    jsonOption('one record per line'),
  ]).action(act(dispatch, async () => (await load()).showCommand));
  const seal = file(audit.command('seal')).description(
    'Keep a damaged log aside (renamed <file>.sealed-<time>) and start a new log that continues its chain; exit 1 when the log is intact.',
  );
  addOptions(seal, [jsonOption()]).action(act(dispatch, async () => (await load()).sealCommand));
};

const declareMcp: Declare = (cmd, dispatch) => {
  cmd
    .summary('serve MCP over stdio: a sandboxed shell for coding assistants')
    .description(
      "Serve the Model Context Protocol over stdin and stdout, for coding assistants: the tools run (a command in the sandbox), check (the command policy's verdict) and explain (the sandbox). The profile and options are fixed here; no call can widen them. Every call is checked and recorded in the audit log. See docs/mcp.md.",
    );
  addOptions(addSandboxOptions(cmd), [
    ...auditOptions('the calls'),
    new Option('--max-concurrent <n>', 'sandboxes running at once; further calls wait (default 4)'),
    new Option('--max-output <size>', "bytes kept of each call's stdout and of its stderr, e.g. 64K (default 64K)"),
  ]).action(act(dispatch, async () => (await import('./mcp.js')).mcpCommand));
};

const declareProxy: Declare = (cmd, dispatch) => {
  cmd
    .summary("serve the filtering proxy of a filtered run on its own")
    .description(
      "Serve HTTP (CONNECT and absolute-URI requests) and SOCKS5 on --listen, with the profile's domain rules (or --allow-domain and --deny-domain) and the same address guard as a filtered run: a name that resolves to loopback or a private address is refused unless a host:port rule names it. One JSON line per connection on stdout (or --log). Stops on SIGTERM or SIGINT: stops listening, closes open connections, exits 0. Profiles with credentials are refused. See docs/network.md.",
    );
  addOptions(cmd, [
    new Option('--listen <host:port|path>', 'where to listen: a loopback address and port (127.0.0.1:3128, [::1]:3128) or a unix socket path').makeOptionMandatory(),
    new Option('--allow-remote', 'let --listen name a non-loopback address (an open proxy: anyone who reaches it uses your allowed hosts)'),
    new Option('--log <file>', 'append the JSON lines to <file> instead of stdout'),
    profileOption(),
    ...domainOptions(),
    debugOption(),
  ]).action(act(dispatch, async () => (await import('./proxy.js')).proxyCommand));
};

const declareExport: Declare = (cmd, dispatch) => {
  withCommand(
    cmd,
    'write the sandbox for another runner (an OCI bundle)',
    'Render the sandbox the profile describes for <command> in another format, and run nothing. oci: an OCI runtime bundle (config.json and rootfs/) that `runc run` or `crun run` starts, with the same filesystem view, namespaces, limits and syscall rules. Without --out, config.json is printed. What the format cannot enforce (a timeout, the filtered network) is refused (exit 125). See docs/oci.md.',
  );
  addOptions(cmd, [
    new Option('--format <format>', 'what to write').choices(EXPORT_FORMATS).makeOptionMandatory(),
    new Option('--out <dir>', 'write the files into <dir>, which must not exist yet (or be an empty directory of yours)'),
    profileOption(),
  ]);
  addPolicyOptions(cmd).action(act(dispatch, async () => (await import('./export.js')).exportCommand));
};

/** Every command, in the order of the help. */
const COMMANDS: Record<string, Declare> = {
  run: declareRun,
  explain: declareExplain,
  check: declareCheck,
  profiles: declareProfiles,
  doctor: declareDoctor,
  selftest: declareSelftest,
  audit: declareAudit,
  mcp: declareMcp,
  proxy: declareProxy,
  export: declareExport,
};

/** `[file] [--since <time>] [-p <name|path>]`: the usage of a command with a few options names each. */
function spelledUsage(cmd: Command): string {
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? '...' : ''}]`));
  const options = cmd.options.map((o) => {
    const value = /<[^>]+>|\[[^\]]+\]/.exec(o.flags)?.[0];
    return `[${o.short ?? o.long ?? o.flags}${value === undefined ? '' : ` ${value}`}]`;
  });
  return [...args, ...options].join(' ');
}

/**
 * The command tree. With `only` naming a command, the tree has just that one
 * (a run does not build the other commands); otherwise every command, as
 * help and "did you mean" need.
 */
export function buildProgram(version: string, dispatch: Dispatch, only?: string): Command {
  const program = new Command('isolate')
    .usage('<command> [options]')
    .description('Run a command inside an OS-level sandbox described by a profile.')
    .version(version, '-V, --version', "print isolate's version")
    .enablePositionalOptions()
    .addHelpText('after', `\n${EXIT_CODES}`);
  const declared = only !== undefined && Object.hasOwn(COMMANDS, only) ? { [only]: COMMANDS[only] as Declare } : COMMANDS;
  for (const [name, declare] of Object.entries(declared)) declare(program.command(name), dispatch);
  for (const cmd of allCommands(program)) if (cmd.commands.length === 0 && cmd.options.length <= 4) cmd.usage(spelledUsage(cmd));
  return program;
}

/** The invocation of the command commander ran: positionals (a variadic one flattened) and options. */
export function invocationOf(cmd: Command): Invocation {
  const args = (cmd.processedArgs as unknown[]).flatMap((a) => (a === undefined ? [] : Array.isArray(a) ? (a as string[]) : [String(a)]));
  return { args, options: cmd.opts(), source: (name) => cmd.getOptionValueSource(name) };
}

/** Every command in the tree, the program first. */
export function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap((c) => allCommands(c))];
}
