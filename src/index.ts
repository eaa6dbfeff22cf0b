/**
 * isolate's programmatic API. The CLI is a thin layer over these functions.
 * Nothing here prints, exits the process or changes global process state
 * (signal forwarding is opt-in for the CLI).
 */
import { statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildReport, policyDigest, startedRecord, type RunAudit, type RunReport } from './audit/report.js';
import { auditTarget, newRunAudit, recordCompleted, recordStarted, type AuditChoice } from './audit/run-audit.js';
import { redactArgv } from './audit/redact.js';
import type { RunOrigin } from './audit/call.js';
import { recordCall as appendCall } from './audit/record-call.js';
import { registerRun, type Registration } from './run/placeholders.js';
import { writableRoots } from './backends/mounts.js';
import { assertEnforceable, conformanceRows } from './backends/conformance.js';
import { decideCommands, type CommandDecision } from './policy/commands.js';
import { BACKEND_CHOICES, loadBackend, selectBackend, type BackendChoice } from './backends/index.js';
import { gatherHostFacts } from './host/facts.js';
import { checkPlaceholderDirs } from './host/placeholder-dirs.js';
import { ensureRuntimeDir, prepareRuntimeDir } from './host/runtime-dir.js';
import { noteHome } from './own-dir.js';
import { scanClock } from './host/scan-cache-file.js';
import { seenBy } from './host/scan-seen.js';
import { searchScope } from './host/protect-scan.js';
import { loginHome } from './host/login-home.js';
import type { ScanClock } from './host/scan-cache.js';
import { quarantineAfterRun } from './run/after-run-scan.js';
import { guardRun, replacedError, REPLACED_REASON, type RunGuard } from './run/replaced-guard.js';
import { moveAsidePaths, type Quarantined } from './run/quarantine.js';
import { EXPORT_FORMATS, type ExportFormat, type HostFacts, type Plan } from './backends/types.js';
import { deviceArgsByPath } from './backends/devices.js';
import { bindArgsByPath, bindsByPath } from './backends/line-binds.js';
import { loadExporter, type Exported } from './backends/export.js';
import type { K8sOptions } from './backends/k8s/render.js';
import { IsolateError, asIsolateError, requireCommand } from './errors.js';
import { computeEnvironment, isSecretName } from './profile/environment.js';
import { assertValuesStayOut, maskValues } from './run/credential-exposure.js';
import { applyOverrides, loadMergedProfile, type LoadContext } from './profile/load.js';
import { hostFileWay, type HostFileWay } from './profile/links.js';
import { checkOptions } from './profile/options.js';
import { DISK, pathVars, resolvePolicy } from './profile/resolve.js';
import { writtenByRuns } from './profile/earlier-runs.js';
import { hiddenOwnDirs } from './profile/own-paths.js';
import { protectsAnything } from './profile/own-paths.js';
import { withTimeoutAtMost, withWorkdir } from './profile/narrow.js';
import { auditNotices } from './profile/trust.js';
import type { LimitsDoc, MergedProfile, NetworkMode, Policy } from './profile/types.js';
import { execute, type ExecuteOptions, type ExecuteResult } from './run/execute.js';
import { bashJoin, bashQuote } from './run/quote.js';
import { credentialVariables, describeSource, variableNames, type CredentialKind, type LoadedCredential, type RunCredentials } from './network/credentials/spec.js';
import type { NetworkEvent } from './network/proxy.js';
import type { ProxyServer } from './network/proxy-server.js';
import type { ProxyAudit } from './audit/proxy-record.js';
import { currentDir } from './current-dir.js';

export { IsolateError } from './errors.js';
/** The protected paths of a plan's summary as explain shows them, for the CLI and the MCP server. */
export { protectedRows } from './backends/protected-rows.js';
/** @internal A command's captured output without the escape sequences that act outside a terminal's screen (docs/terminal.md), for the MCP server. */
export { filteredText } from './run/tty/filter.js';
export type { NetworkEvent } from './network/proxy.js';
export type { ProxyServer } from './network/proxy-server.js';
export type { RunReport, RunAudit } from './audit/report.js';
export type { AuditChoice as AuditOptions } from './audit/run-audit.js';
export type { RunOrigin, McpTool } from './audit/call.js';
export type { CommandDecision } from './policy/commands.js';
export type { Plan, HostFacts, ExportFormat } from './backends/types.js';
export type { Exported, ExportEntry } from './backends/export.js';
export type { Policy, MergedProfile, ProfileDoc } from './profile/types.js';

export interface IsolateOptions {
  /** Built-in name, user profile name or file path. Default `default`. */
  profile?: string;
  backend?: BackendChoice;
  allowRead?: string[];
  allowWrite?: string[];
  deny?: string[];
  /** `NAME` passes NAME from `callerEnv`; `NAME=VALUE` sets it. */
  env?: string[];
  net?: NetworkMode;
  /** Domain patterns the command may reach (implies net: 'filtered'). */
  allowDomain?: string[];
  denyDomain?: string[];
  /** `NAME@host[,host...]`: the command gets a placeholder in NAME; the proxy sends the value of `callerEnv[NAME]` to those hosts only (needs net: 'filtered'). */
  credential?: string[];
  cwd?: string;
  /**
   * The command's working directory only: unlike `cwd`, it leaves `${CWD}` and every path of the profile as they are.
   * It must lie inside a readable or writable path of the profile (E_PATH_INVALID otherwise).
   */
  workdir?: string;
  /** A timeout for this run that only shortens the profile's (a longer one is refused, E_LIMIT_INVALID). */
  timeoutAtMostMs?: number;
  /**
   * @internal A profile loaded earlier with its overrides applied (Prepared.merged), used as it is: `profile` and the
   * options that change the profile are not read again (the MCP server fixes its profile when it starts).
   */
  loaded?: MergedProfile;
  /** Resource limits, as in a profile's `limits` (e.g. { timeout: '30s', memory: '512M' }). */
  limits?: LimitsDoc;
  /** The environment isolate may pass variables from. Default: process.env. */
  callerEnv?: Readonly<Record<string, string | undefined>>;
  /** Where relative paths are resolved from. Default: process.cwd(). */
  callerCwd?: string;
}

export interface RunOptions extends IsolateOptions {
  /** Where and whether the run is recorded. Default: the profile's audit settings. */
  audit?: AuditChoice;
  /** Default `capture` for the API: stdout and stderr are returned in the report. */
  stdio?: 'inherit' | 'capture';
  /** @internal CLI only: forward SIGINT/SIGTERM/SIGHUP/SIGQUIT to the sandbox. */
  forwardSignals?: boolean;
  /** With stdio 'capture': text the command reads on its stdin (default: nothing). */
  stdin?: string;
  /** With stdio 'capture': the most bytes kept of stdout and of stderr each (default 4 MiB); the rest is dropped and `truncated` says so. */
  maxCapture?: number;
  /** Aborting it kills every process of the sandbox; the report says `cancelled`. */
  signal?: AbortSignal;
  /** @internal Who asked for the run (the MCP server), recorded in the audit log. */
  origin?: RunOrigin;
  /** @internal CLI only (raw mode on process.stdin): with stdio 'inherit', the command gets a terminal of its own, relayed to process.stdin and stdout. */
  terminal?: boolean;
  /** @internal CLI only: the relay passes every escape sequence to the terminal (--raw-terminal). */
  rawTerminal?: boolean;
}

export interface Prepared {
  merged: MergedProfile;
  policy: Policy;
}

function context(options: IsolateOptions): LoadContext & { env: Readonly<Record<string, string | undefined>> } {
  return { callerCwd: options.callerCwd ?? currentDir(), env: options.callerEnv ?? process.env };
}

/**
 * Every function here rejects only with an IsolateError (run() resolves
 * to a report instead): an error of another kind is a bug in isolate, and
 * comes back as E_INTERNAL with the original as its cause.
 */
function guarded<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (e: unknown) {
      throw asIsolateError(e);
    }
  };
}

/**
 * Load a profile with extends and overrides applied, and resolve it to a
 * Policy. A bad profile or option rejects with an IsolateError (`code`,
 * `message`, `detail`, `fix`).
 */
export const loadProfile: (options?: IsolateOptions) => Promise<Prepared> = guarded(loadPrepared);

async function loadPrepared(options: RunOptions = {}): Promise<Prepared> {
  checkApiOptions(options);
  const ctx = context(options);
  // isolate makes its directories under the caller's home, never the home itself (own-dir.ts).
  noteHome(ctx.env['HOME'] || homedir());
  // Before the policy is resolved, so that it hides isolate's runtime directory from the sandbox (runtime-dir.ts).
  prepareRuntimeDir(ctx.env);
  const merged = options.loaded ?? (await loadWithOverrides(options, ctx));
  const cwd = options.cwd === undefined ? ctx.callerCwd : resolve(ctx.callerCwd, options.cwd);
  // The audit log a run names (--audit-log) is checked and hidden from its sandbox like the profile's.
  const log = options.audit?.log === undefined ? {} : { log: resolve(ctx.callerCwd, options.audit.log) };
  const audit = { audit: { enabled: options.audit?.enabled, ...log } };
  const resolved = resolvePolicy(merged, { vars: pathVars(cwd, ctx.env, homedir()), env: ctx.env, processEnv: process.env, loginHome: loginHome(), ...audit });
  const moved = options.workdir === undefined ? resolved : withWorkdir(resolved, resolve(ctx.callerCwd, options.workdir));
  const policy = options.timeoutAtMostMs === undefined ? moved : withTimeoutAtMost(moved, options.timeoutAtMostMs);
  return { merged, policy };
}

async function loadWithOverrides(options: RunOptions, ctx: ReturnType<typeof context>): Promise<MergedProfile> {
  const loaded = await loadMergedProfile(options.profile ?? 'default', ctx);
  return applyOverrides(
    loaded,
    {
      ...(options.allowRead ? { read: options.allowRead } : {}),
      ...(options.allowWrite ? { write: options.allowWrite } : {}),
      ...(options.deny ? { deny: options.deny } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.net ? { net: options.net } : {}),
      ...(options.allowDomain ? { allowDomain: options.allowDomain } : {}),
      ...(options.denyDomain ? { denyDomain: options.denyDomain } : {}),
      ...(options.credential ? { credential: options.credential } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    },
    ctx,
  );
}

export interface PlanResult extends Prepared {
  host: HostFacts;
  plan: Plan;
}

/** What `isolate run` would execute, without running it. Rejects only with an IsolateError. */
export const plan: (command: readonly string[], options?: IsolateOptions) => Promise<PlanResult> = guarded(
  async (command: readonly string[], options: IsolateOptions = {}) => await planPrepared(await prepare(command, options), command, options),
);

/** The options beyond the profile's (checkOptions), for JavaScript callers: a wrong shape is E_USAGE naming the option. */
function checkApiOptions(options: unknown): void {
  checkOptions(options);
  const o = (options ?? {}) as RunOptions;
  const wrong = (name: string, expected: string): IsolateError =>
    new IsolateError('E_USAGE', `options.${name}: expected ${expected}`, { fix: 'see docs/node-api.md for the options and their types' });
  if (o.backend !== undefined && !BACKEND_CHOICES.includes(o.backend)) throw wrong('backend', `one of ${BACKEND_CHOICES.join(', ')}`);
  if (o.stdio !== undefined && o.stdio !== 'inherit' && o.stdio !== 'capture') throw wrong('stdio', "'inherit' or 'capture'");
  if (o.stdin !== undefined && (typeof o.stdin !== 'string' || o.stdio === 'inherit')) throw wrong('stdin', "a string, with stdio 'capture'");
  if (o.maxCapture !== undefined && !(Number.isSafeInteger(o.maxCapture) && o.maxCapture > 0)) throw wrong('maxCapture', 'a positive whole number of bytes');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw wrong('signal', 'an AbortSignal');
  const a: unknown = o.audit;
  if (a === undefined) return;
  const audit = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : undefined;
  if (audit === undefined || !['boolean', 'undefined'].includes(typeof audit['enabled']) || !['string', 'undefined'].includes(typeof audit['log'])) {
    throw wrong('audit', '{ enabled?: boolean, log?: string }');
  }
}

/**
 * Of options that cannot be read, what still says where to record the run:
 * its audit option and the caller's environment, when they can be read
 * themselves (an MCP client's bad `cwd` must not take its call out of the
 * server's log). Else the run is reported, not recorded.
 */
function recordingOptions(given: RunOptions | null): RunOptions {
  if (typeof given !== 'object' || given === null) return { audit: { enabled: false } };
  const kept: RunOptions = { ...(given.audit === undefined ? {} : { audit: given.audit }), ...(given.callerEnv === undefined ? {} : { callerEnv: given.callerEnv }) };
  return problemOf(() => checkApiOptions(kept)) === undefined ? kept : { audit: { enabled: false } };
}

async function prepare(command: readonly string[], options: RunOptions): Promise<Prepared> {
  if (!Array.isArray(command) || !command.every((a) => typeof a === 'string')) {
    throw new IsolateError('E_USAGE', 'command: expected an array of strings', { fix: "pass the command as an argument vector, e.g. ['npm', 'test']" });
  }
  const nul = command.findIndex((a) => a.includes('\0'));
  if (nul !== -1) throw new IsolateError('E_USAGE', `command: word ${nul} contains a NUL byte, which no program can be given`, { fix: 'remove the NUL byte from the command' });
  requireCommand(command);
  return loadPrepared(options);
}

/** What explain and plan() show in a credential's variable: the placeholder itself is made when a run reads the value. */
export const PLACEHOLDER_SHOWN = '<placeholder made for each run>';

async function planPrepared(prepared: Prepared, command: readonly string[], options: RunOptions, credentials?: readonly LoadedCredential[]): Promise<PlanResult> {
  const ctx = context(options);
  const choice = options.backend ?? (BACKEND_CHOICES.includes(ctx.env['ISOLATE_BACKEND'] as BackendChoice) ? (ctx.env['ISOLATE_BACKEND'] as BackendChoice) : 'auto');
  const terminal = options.terminal === true && options.stdio === 'inherit';
  const variables = credentials?.flatMap(credentialVariables) ?? (prepared.policy.credentials ?? []).flatMap((c) => variableNames(c).map((name) => ({ name, placeholder: PLACEHOLDER_SHOWN })));
  const host = { ...gatherHostFacts(prepared.policy, command, { env: ctx.env, backend: choice, terminal }), ...(variables.length === 0 ? {} : { credentials: variables }) };
  // The real values reach the sandbox through the proxy only: never as a word of the command or another variable.
  if (credentials !== undefined) assertValuesStayOut(credentials, command, computeEnvironment(prepared.policy.environment, host.env, host.credentials).env);
  const backend = await loadBackend(selectBackend(choice, host));
  assertEnforceable(prepared.policy, backend.name);
  const plan = backend.plan(prepared.policy, command, host);
  checkPlaceholderDirs((plan.pathFds ?? []).filter((p) => p.create === true).map((p) => p.path));
  return { ...prepared, host, plan };
}

export const EXPLAIN_SCHEMA_VERSION = 1;

export interface Explanation {
  schemaVersion: typeof EXPLAIN_SCHEMA_VERSION;
  kind: 'explain';
  profile: { name: string; sources: string[]; description: string };
  backend: { name: string; version: string };
  command: { program: string; resolved: string; args: string[] };
  cwd: string;
  /** A bash command line that does what `isolate run` does; variable values appear as "$NAME". */
  commandLine: string;
  argv: string[];
  /** The arguments isolate pipes to the backend, with values of passed-through variables shown as "$NAME". */
  pipedArgs: string[];
  summary: Plan['summary'];
  withheldEnv: string[];
  /** How this backend enforces each policy feature (natively, by isolate, or not at all). */
  conformance: ReturnType<typeof conformanceRows>;
  /** What each descriptor on `commandLine` carries, as this backend uses it ("fd 3: ..."). */
  descriptors: string[];
  /** What the caller should know before running it: a profile not among the caller's own that keeps runs out of the audit log. */
  warnings: string[];
  /** The credentials: name, where the value is read, the hosts it is sent to, its ttl, and which profile (or flag) defined it. Never a value. */
  credentials: ExplainedCredential[];
}

export interface ExplainedCredential {
  name: string;
  kind: CredentialKind;
  /** The variables the command gets, each holding a placeholder. */
  variables: string[];
  source: string;
  hosts: string[];
  ttlMs: number | null;
  /** Where it was defined; a file or command source is taken only from a profile that is the caller's own and writable by no one else. */
  from: string;
}

function explainCredentials(policy: Policy): ExplainedCredential[] {
  return (policy.credentials ?? []).map((c) => ({
    name: c.name,
    kind: c.kind ?? 'token',
    variables: variableNames(c),
    source: describeSource(c),
    hosts: c.hosts,
    ttlMs: c.ttlMs ?? null,
    from: c.from,
  }));
}

/** What one of Plan.inputs carries, in words. */
function inputText(p: Plan, input: NonNullable<Plan['inputs']>[number]): string {
  if (input.gitConfig !== undefined) return `the text of ${input.gitConfig} without its credentials, which the sandbox sees there instead`;
  return p.bundle === undefined ? `${p.backend}'s configuration, generated by isolate` : 'the line ("go") the launcher waits for before it starts the runtime (isolate sends it once the launcher is in the run\'s cgroup)';
}

/** The descriptors `commandLine` opens, in words and in order: each backend has its own. */
function describeDescriptors(p: Plan): string[] {
  const b = p.backend;
  const { args, status, ready, started, gate } = p.fds;
  const out: [number | undefined, string][] = [
    [args, `${b}'s arguments, the environment among them, through a pipe`],
    [status, `${b}'s status, which isolate reads (here /dev/null)`],
    [ready, 'one byte the start wrapper writes just before it execs the command (here /dev/null)'],
    [started, `the sandbox's init says it has started and waits for "go" (here echo go)`],
    [gate, 'the gate before the command says the sandbox will die with isolate and waits for "go" (here echo go)'],
    [p.seccomp?.fd, 'the seccomp filter (a BPF program)'],
    ...(p.inputs ?? []).map((i): [number, string] => [i.fd, inputText(p, i)]),
  ];
  const paths = p.pathFds ?? [];
  const first = paths[0]?.fd;
  const last = paths[paths.length - 1]?.fd;
  const sealed = paths.some((e) => e.seal !== undefined) ? ', then the entries of sealed directories (a run hands over an empty stand-in for one that is no longer as listed; the line opens the path, and /dev/null for a socket, pipe or device)' : '';
  const binds = paths.some((e) => e.bind === true) ? ", then the paths the profile shows (the line binds a socket, pipe or device among them by its path, and does not open it)" : '';
  const dirs = paths.some((e) => e.dir === true) ? ' (an empty directory, mode 0555, for a missing .git)' : '';
  const pathText = `pinned directories and protected files inside writable paths${sealed}${binds}; the line creates, and leaves behind, an empty placeholder for each missing protected name${dirs}, which isolate removes after a run`;
  const lines = out.filter((d): d is [number, string] => d[0] !== undefined).sort((x, y) => x[0] - y[0]).map(([fd, text]) => `fd ${fd}: ${text}`);
  if (first !== undefined && last !== undefined) lines.push(`fd ${first === last ? first : `${first}-${last}`}: ${pathText}`);
  return lines;
}

/**
 * The path the command line opens for a descriptor: for a sealed entry that is a socket, pipe or device, the host's
 * /dev/null, bound where it is unopenable (a shell cannot open such an entry without using it: a pipe would block the
 * line, a socket refuses).
 */
function shownPath(entry: NonNullable<Plan['pathFds']>[number]): string {
  return entry.seal === 'other' ? '/dev/null' : entry.path;
}

/** A path a shell cannot open for reading without using it: a socket, a pipe, a device (gone: the line says so). */
function unopenable(path: string): boolean {
  try {
    const st = statSync(path);
    return !st.isDirectory() && !st.isFile();
  } catch {
    return false;
  }
}

function redactPipedArgs(p: Plan, callerEnv: Readonly<Record<string, string | undefined>>, setNames: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < p.pipedArgs.length; i++) {
    const a = p.pipedArgs[i] ?? '';
    out.push(a);
    if (a === '--setenv') {
      const name = p.pipedArgs[i + 1] ?? '';
      const value = p.pipedArgs[i + 2] ?? '';
      out.push(name);
      const fromCaller = !setNames.has(name) && callerEnv[name] === value;
      out.push(fromCaller ? `$${name}` : isSecretName(name) ? '<redacted>' : value);
      i += 2;
    }
  }
  return out;
}

/**
 * A generated config as one shell word in which the values shown as "$NAME"
 * (envar lines of the names in `expanded`) are expanded by the shell that
 * runs the printed command line, as the piped arguments are. Only values
 * that cannot end the config's quoted string are shown that way (see
 * explain), and only the names explain put there: a literal "$X" a profile
 * sets stays literal.
 */
/** An environment line of a generated config whose value explain shows as "$NAME": nsjail's `envar: "N=$N"`, config.json's `"N=$N",`. */
const EXPANDED_LINE = /^(\s*(?:envar: )?"([A-Za-z_][A-Za-z0-9_]*)=)\$([A-Za-z_][A-Za-z0-9_]*)("(?:,)?)$/;

function configWord(text: string, expanded: ReadonlySet<string>): string {
  const parts: string[] = [];
  let literal = '';
  for (const [i, line] of text.split('\n').entries()) {
    if (i > 0) literal += '\n';
    const m = EXPANDED_LINE.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined || m[2] !== m[3] || !expanded.has(m[2])) {
      literal += line;
      continue;
    }
    parts.push(bashQuote(literal + m[1], { newlines: true }), `"$${m[2]}"`);
    literal = m[4] ?? '"';
  }
  parts.push(bashQuote(literal, { newlines: true }));
  return parts.join('');
}

/**
 * `--backend oci`: the commands that write the plan's bundle (run/bundle.ts
 * does it for a run), before the launcher. config.json's environment values
 * are shown as for nsjail's config: "$NAME" where the caller's value is
 * passed, <redacted> for a secret's name.
 */
function bundlePart(bundle: Plan['bundle'], redactValue: (name: string, value: string) => string, expanded: Set<string>): string {
  if (bundle === undefined) return '';
  // Only the lines of process.env (a line of process.args may look the same).
  const start = bundle.config.indexOf('"env": [');
  const end = bundle.config.indexOf(']', start);
  const envLines = bundle.config.slice(start, end).replace(/^(\s*")([A-Za-z_][A-Za-z0-9_]*)=((?:[^"\\]|\\.)*)("(?:,)?)$/gm, (_line, head: string, name: string, json: string, tail: string) => {
    const shown = redactValue(name, JSON.parse(`"${json}"`) as string);
    return `${head}${name}=${JSON.stringify(shown).slice(1, -1)}${tail}`;
  });
  const config = start < 0 ? bundle.config : bundle.config.slice(0, start) + envLines + bundle.config.slice(end);
  const at = (rel: string): string => bashQuote(`${bundle.dir}/${rel}`);
  return [
    // Removed however the line ends, as run/ removes it (the runtime's state with it).
    `trap ${bashQuote(`rm -rf -- ${bashQuote(bundle.dir)}`)} EXIT; mkdir -m 0700 ${bashQuote(bundle.dir)}`,
    ...bundle.dirs.map((d) => `mkdir ${at(d)}`),
    ...bundle.links.map((l) => `ln -s ${bashQuote(l.target)} ${at(l.path)}`),
    // Git configuration without its credentials (no secret in it), which config.json binds over the file.
    ...(bundle.files ?? []).map((f) => `printf '%s' ${bashQuote(f.data, { newlines: true })} > ${at(f.path)}`),
    `printf '%s' ${configWord(config, expanded)} > ${at(bundle.configFile)}`,
    '',
  ].join(' && ');
}

/** What `explain --json` prints. Rejects only with an IsolateError. */
export const explain: (command: readonly string[], options?: IsolateOptions) => Promise<Explanation> = guarded(explainPlan);

async function explainPlan(command: readonly string[], options: IsolateOptions = {}): Promise<Explanation> {
  const prepared = await prepare(command, options);
  // What a run refuses before it plans, explain refuses too: the runtime directory it registers in (registerRun), its credentials' sources (readCredentials, from the same home).
  const env = context(options).env;
  if (protectedRoots(prepared.policy).length > 0) ensureRuntimeDir(env);
  await checkCredentials(prepared.policy, options);
  const r = await planPrepared(prepared, command, options);
  const setNames = new Set(Object.keys(r.policy.environment.set));
  const piped = redactPipedArgs(r.plan, r.host.env, setNames);
  const quotedPiped = piped.map((a) => (/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(a) ? `"${a}"` : bashQuote(a))).join(' ');
  const seccomp =
    r.plan.seccomp === undefined
      ? ''
      : ` ${r.plan.seccomp.fd}< <(printf '${[...r.plan.seccomp.program].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}')`;
  const fds = r.plan.fds;
  const argsPart = fds.args === undefined ? '' : ` ${fds.args}< <(printf '%s\\0' ${quotedPiped})`;
  const statusPart = fds.status === undefined ? '' : ` ${fds.status}>/dev/null`;
  // sandbox-exec's wrapper writes one byte on `ready`; nsjail's init writes one on `started`, and bwrap's gate on `gate`, and waits to read "go" on it.
  const readyPart = fds.ready === undefined ? '' : ` ${fds.ready}>/dev/null`;
  const handshakePart = [fds.started, fds.gate].map((fd) => (fd === undefined ? '' : ` ${fd}<> <(echo go)`)).join('');
  // Generated configs carry the environment (nsjail): show passed-through values as "$NAME", like the piped args,
  // when the value, pasted into the config's quoted string, cannot end it (no quote, backslash or control character).
  const expanded = new Set<string>();
  const redactValue = (name: string, value: string): string => {
    // eslint-disable-next-line no-control-regex -- a value with a control character must not be shown as "$NAME"
    if (!setNames.has(name) && r.host.env[name] === value && /^[^"\\\x00-\x1f\x7f]*$/.test(value)) {
      expanded.add(name);
      return `$${name}`;
    }
    return isSecretName(name) ? '<redacted>' : value;
  };
  const { mapConfigEnv } = await import('./backends/nsjail-proto.js');
  // A git configuration's text is shown as it is (it holds no environment, and no credential).
  const inputWord = (i: NonNullable<Plan['inputs']>[number]): string => (i.gitConfig === undefined ? configWord(mapConfigEnv(i.data.toString(), redactValue), expanded) : bashQuote(i.data.toString(), { newlines: true }));
  const inputsPart = (r.plan.inputs ?? []).map((i) => ` ${i.fd}< <(printf '%s' ${inputWord(i)})`).join('');
  // A profile's path a shell cannot open (a socket it shares) is bound by its path, and not opened (backends/line-binds.ts).
  const byPath = bindsByPath(r.plan.pathFds ?? [], unopenable);
  // A placeholder is opened with <>, which creates the empty file as run/ does (and leaves it behind); a directory one is made first.
  const dirsPart = (r.plan.pathFds ?? []).flatMap((p) => (p.create === true && p.dir === true ? [`mkdir -p -m 0555 -- ${bashQuote(p.path)} && `] : [])).join('');
  const pathsPart = (r.plan.pathFds ?? []).filter((p) => !byPath.has(p.fd)).map((p) => ` ${p.fd}${p.create === true && p.dir !== true ? '<>' : '<'} ${bashQuote(shownPath(p))}`).join('');
  // The device copies by their paths: the line cannot hand over the descriptors run/ opens (backends/devices.ts).
  const argv = bindArgsByPath(deviceArgsByPath(r.plan.argv, r.plan.devices, r.plan.deviceFd), byPath);
  const commandLine = `${dirsPart}${bundlePart(r.plan.bundle, redactValue, expanded)}${bashJoin(['env', '-i', ...argv])}${argsPart}${statusPart}${readyPart}${handshakePart}${seccomp}${inputsPart}${pathsPart}`;
  return {
    schemaVersion: EXPLAIN_SCHEMA_VERSION,
    kind: 'explain',
    profile: r.policy.profile,
    backend: { name: r.plan.backend, version: r.plan.backendVersion },
    command: r.plan.command,
    cwd: r.plan.cwd,
    commandLine,
    argv: r.plan.argv,
    pipedArgs: piped,
    summary: r.plan.summary,
    withheldEnv: r.plan.withheldEnv,
    conformance: conformanceRows(r.policy, r.plan.backend),
    descriptors: describeDescriptors(r.plan),
    warnings: auditNotices(r.merged, undefined, r.host.env),
    credentials: explainCredentials(r.policy),
  };
}

export interface ExportOptions extends IsolateOptions {
  format: ExportFormat;
  /**
   * k8s only: `name` (the prefix of every object's name, default `isolate-run`), `image` (the command's) and
   * `proxyImage` (default `isolate:latest`, the Dockerfile's), `seccomp` (`localhost`, default, or the weaker
   * `runtime-default`), `uid` (non-root, default 1000). See docs/kubernetes.md.
   */
  k8s?: Partial<K8sOptions>;
}

/**
 * The profile rendered for another runner (`isolate export`): the entries of
 * an output directory, as data; nothing is written. What the format cannot
 * enforce rejects with an IsolateError (exit 125), never silently dropped.
 */
export const exportPolicy: (command: readonly string[], options: ExportOptions) => Promise<Exported> = guarded(async (command, options) => {
  if (!EXPORT_FORMATS.includes(options.format)) {
    throw new IsolateError('E_USAGE', `options.format: expected one of ${EXPORT_FORMATS.join(', ')}`, { fix: 'see docs/oci.md' });
  }
  if (options.k8s !== undefined && options.format !== 'k8s') throw new IsolateError('E_USAGE', `the Kubernetes settings apply to --format k8s, not ${options.format}`);
  const prepared = await prepare(command, options);
  // A command the profile's command policy refuses is not written for another runner either.
  const decision = await decideCommands(prepared.policy.commands, command);
  if (decision.decision === 'refused') throw refusedByPolicy(decision);
  const exporter = await loadExporter(options.format);
  const ctx = context(options);
  const host = gatherHostFacts(prepared.policy, command, { env: ctx.env, mountPoints: exporter.needsMountPoints, sealed: false });
  return exporter.render(prepared.policy, command, host, options.k8s === undefined ? {} : { k8s: options.k8s });
});

/**
 * @internal For the CLI's start-up snapshot (src/cli/main.ts, loadRunPath):
 * load what a run loads on demand, this platform's backends and the filtered
 * network's proxy, so that they are part of the snapshot. Code only: nothing
 * is read from the host.
 */
export async function loadRunModules(): Promise<void> {
  const backends = process.platform === 'darwin' ? (['sandbox-exec'] as const) : (['bwrap', 'nsjail', 'oci'] as const);
  await Promise.all([import('./network/proxy.js'), import('./network/rules.js'), import('./run/loopback-proxy.js'), ...backends.map(loadBackend)]);
}

/**
 * @internal For the CLI's start-up snapshot (src/cli/main.ts, loadRunPath):
 * run the pure parts of a run on a made-up host (src/warm-up.ts), so that
 * the snapshot holds their compiled code. Reads nothing from the host, and
 * keeps none of what it computes.
 */
export async function warmRunPath(): Promise<void> {
  await (await import('./warm-up.js')).warmUp();
}

/**
 * @internal For a long-lived program when it starts (the MCP server): remove what isolate processes of this user
 * that were killed (SIGKILL) left in isolate's runtime directory, their owners gone (run/killed-leftovers.ts).
 * Never rejects.
 */
export async function sweepKilledLeftovers(options: IsolateOptions = {}): Promise<void> {
  await (await import('./run/killed-leftovers.js')).sweepKilledLeftovers(context(options).env);
}

/**
 * Run a command in the sandbox. Resolves to the run report and does not
 * throw: isolate's own failures (a bad profile or option, a missing backend,
 * a bug: E_INTERNAL) are in `report.error` with exit 125 (126/127 for a
 * refused or missing command).
 */
export async function run(command: readonly string[], options: RunOptions = {}): Promise<RunReport> {
  return (await runWithError(command, options)).report;
}

/** What the command policy decides for a command (policy/commands.ts CommandDecision), and for which program. */
export interface CheckResult extends CommandDecision {
  schemaVersion: 1;
  kind: 'check';
  command: string[];
  /** The program as the sandbox would execute it. */
  resolved: string;
}

/** Decide whether the profile's command policy lets `command` start. Runs nothing. Rejects only with an IsolateError. */
export const check: (command: readonly string[], options?: IsolateOptions) => Promise<CheckResult> = guarded(checkPlan);

async function checkPlan(command: readonly string[], options: IsolateOptions = {}): Promise<CheckResult> {
  const r = await plan(command, options);
  const d = await decideCommands(r.policy.commands, command, r.plan.command.resolved);
  return {
    schemaVersion: 1,
    kind: 'check',
    command: redactArgv(command),
    resolved: r.plan.command.resolved,
    decision: d.decision,
    rule: d.rule,
    list: d.list,
    reason: d.reason,
    effective: redactArgv(d.effective),
    subcommand: d.subcommand === null ? null : redactArgv(d.subcommand),
    undecidable: d.undecidable.map((u) => ({ command: redactArgv(u.command), reason: u.reason })),
  };
}

/** @internal A call of the MCP server that started no sandbox (check, explain). */
export interface CallOutcome {
  origin: RunOrigin;
  /** The command asked about; null for explain. */
  command: readonly string[] | null;
  check?: CheckResult | undefined;
  error?: IsolateError | undefined;
}

/**
 * @internal For the MCP server: record a call that started no sandbox as one
 * record in the audit log the options' runs go to. Never rejects: what
 * happened is in the returned audit outcome.
 */
export async function recordCall(call: CallOutcome, options: RunOptions = {}): Promise<RunAudit> {
  let policy: Policy | undefined;
  try {
    policy = (await loadPrepared(options)).policy;
  } catch {
    policy = undefined; // the call's own error says why; it is still recorded where the options say
  }
  const profile = { name: policy?.profile.name ?? '', sources: policy?.profile.sources ?? [], sha256: policy === undefined ? null : policyDigest(policy) };
  const target = auditTarget(policy, options.audit, options.callerCwd ?? currentDir(), context(options).env);
  const c = call.check;
  const decision = c === undefined ? null : { decision: c.decision, rule: c.rule, list: c.list, reason: c.reason };
  return appendCall(target, { origin: call.origin, command: call.command, user: callingUser(), profile, decision, error: call.error?.toJSON() ?? null });
}

function callingUser(): RunReport['user'] {
  let name: string | null = null;
  try {
    name = userInfo().username;
  } catch {
    name = null;
  }
  return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, name };
}

/** Protected names the run created, moved aside (run/after-run-scan.ts): the same names the run was protected by, searched afresh. */
function neutraliseCreated(planned: PlanResult, runId: string, since: ScanClock | undefined): Quarantined[] {
  if (!protectsAnything(planned.policy.filesystem)) return [];
  try {
    const seen = seenBy(planned.host.protect);
    return quarantineAfterRun({ scope: searchScope(planned.policy), before: planned.host.protect, seen, tag: runId.slice(0, 8), since, now: scanClock() });
  } catch (e: unknown) {
    // Never expected (the search moves aside what it cannot search); said for every writable path, and the run is still recorded.
    const error = asIsolateError(e).message;
    return writableRoots(planned.policy.filesystem.mounts).map((path) => ({ path, movedTo: null, reason: 'the search after the run failed', error }));
  }
}

/** Where a credential's program may lie (run/credential-program.ts): not where this run's sandbox, or an earlier one's in the caller's project, could change it. */
function programCheck(policy: Policy, env: Readonly<Record<string, string | undefined>>, callerCwd: string): (program: string) => HostFileWay {
  const written = writtenByRuns(policy.filesystem.mounts, [callerCwd, policy.process.cwd], hiddenOwnDirs(env), env['HOME'], (path) => DISK.stat(path));
  return (program) => hostFileWay(program, written);
}

/** The policy's credentials with their values (run/credential-sources.ts, loaded only when there are some), or undefined. */
async function readCredentials(policy: Policy, options: IsolateOptions): Promise<RunCredentials | undefined> {
  const specs = policy.credentials ?? [];
  if (specs.length === 0) return undefined;
  const { env, callerCwd } = context(options);
  const { loadCredentials } = await import('./run/credential-sources.js');
  // A `from: command` runs in the caller's home, not the project: a repository's configuration must not steer it.
  const loaded = loadCredentials(specs, env, env['HOME'] || homedir(), programCheck(policy, env, callerCwd));
  const ca = await upstreamCa(policy);
  return { loaded, ...(ca === undefined ? {} : { upstreamCa: ca }) };
}

/**
 * What readCredentials refuses that explain can see without a credential's value: a credential command's program
 * the sandbox could have changed (none is started), network.upstreamCa unusable.
 */
async function checkCredentials(policy: Policy, options: IsolateOptions): Promise<void> {
  const specs = policy.credentials ?? [];
  if (specs.length === 0) return;
  const { env, callerCwd } = context(options);
  const { checkCredentialPrograms } = await import('./run/credential-sources.js');
  checkCredentialPrograms(specs, env, env['HOME'] || homedir(), programCheck(policy, env, callerCwd));
  await upstreamCa(policy);
}

/**
 * network.upstreamCa's certificates when a credential needs them: read, or refused when the file cannot be read or
 * holds none, by a run and by explain alike (explain reads no credential's value, but this file holds none).
 */
async function upstreamCa(policy: Policy): Promise<string | undefined> {
  const ca = policy.network.upstreamCa;
  if (ca === undefined || (policy.credentials ?? []).length === 0) return undefined;
  const { readUpstreamCa } = await import('./run/credential-sources.js');
  return readUpstreamCa(ca);
}

function problemOf(fn: () => void): IsolateError | undefined {
  try {
    fn();
    return undefined;
  } catch (e: unknown) {
    return asIsolateError(e);
  }
}

/** How execute() runs the sandbox for these options. */
function executeOptions(options: RunOptions): ExecuteOptions {
  const capture = options.stdio !== 'inherit';
  return {
    stdio: capture ? 'capture' : 'inherit',
    ...(capture ? { input: 'ignore' as const } : {}),
    ...(capture && options.stdin !== undefined ? { stdinText: options.stdin } : {}),
    ...(options.maxCapture === undefined ? {} : { maxCapture: options.maxCapture }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    forwardSignals: options.forwardSignals ?? false,
    rawTerminal: options.rawTerminal === true,
  };
}

/** The command policy's decision on `command`; undefined when the profile has no command rules. */
async function commandDecision(planned: PlanResult, command: readonly string[]): Promise<CommandDecision | undefined> {
  const rules = planned.policy.commands;
  if (rules.allow.length === 0 && rules.deny.length === 0) return undefined;
  return decideCommands(rules, command, planned.plan.command.resolved);
}

function refusedByPolicy(decision: CommandDecision): IsolateError {
  return new IsolateError('E_COMMAND_REFUSED', `refused by the command policy: ${decision.reason}`, {
    exitCode: 126,
    fix: "change the profile's commands.allow / commands.deny, or run another command",
  });
}

/** The writable roots a run registers in isolate's runtime directory for their placeholders (run/placeholders.ts): none when nothing is protected. */
function protectedRoots(policy: Policy): string[] {
  return protectsAnything(policy.filesystem) ? writableRoots(policy.filesystem.mounts) : [];
}

/** Let go of the run's registration; what could not be cleaned up, as the report's cleanupErrors. */
async function releaseRun(registration: Registration | undefined): Promise<string[]> {
  try {
    await registration?.release();
    return registration?.notices ?? [];
  } catch (e: unknown) {
    // The command has run; the placeholders are removed by the next run in this directory. Said, never dropped.
    return [...(registration?.notices ?? []), e instanceof Error ? e.message : String(e)];
  }
}

/** As run(), also returning isolate's own error object (for the CLI's --debug stack traces) and where the run was recorded. */
export async function runWithError(
  command: readonly string[],
  given: RunOptions = {},
): Promise<{ report: RunReport; error: IsolateError | undefined; audit: RunAudit }> {
  const startedAt = new Date();
  const runId = randomUUID();
  const invalid = problemOf(() => checkApiOptions(given));
  const options: RunOptions = invalid === undefined ? given : recordingOptions(given);
  const callerCwd = options.callerCwd ?? currentDir();
  const user = callingUser();
  let audit: RunAudit | undefined;
  let planned: PlanResult | undefined;
  let policySha256: string | undefined;
  let decision: CommandDecision | undefined;
  let result: ExecuteResult | undefined;
  let error: IsolateError | undefined;
  let registration: Registration | undefined;
  let since: ScanClock | undefined;
  let credentials: RunCredentials | undefined;
  // The command as the audit log and the report keep it: a credential's value in a word shown as <NAME> (run/credential-exposure.ts).
  let recorded: readonly string[] = command;
  let guard: RunGuard | undefined;
  // Clean-up that goes on beside the after-run work (the cgroup's directories), awaited before the report is returned.
  const late: Promise<void>[] = [];
  try {
    if (invalid !== undefined) throw invalid;
    const prepared = await prepare(command, options);
    // Register before the protected-file search, so a concurrent run's placeholders are not removed under us.
    registration = await registerRun(protectedRoots(prepared.policy), context(options).env);
    credentials = await readCredentials(prepared.policy, options);
    if (credentials !== undefined) recorded = maskValues(credentials.loaded, command);
    planned = await planPrepared(prepared, command, options, credentials?.loaded);
    policySha256 = policyDigest(planned.policy);
    await registration.update(planned.plan.cleanup.map((c) => c.removeIfPlaceholder));
    const target = auditTarget(planned.policy, options.audit, callerCwd, context(options).env);
    audit = newRunAudit(target);
    audit.warnings.push(...auditNotices(planned.merged, options.audit, context(options).env));
    decision = await commandDecision(planned, command);
    if (decision?.decision === 'refused') throw refusedByPolicy(decision);
    const origin = options.origin;
    const started = startedRecord({ runId, startedAt, command: recorded, policy: planned.policy, policySha256, plan: planned.plan, cwd: callerCwd, user, origin });
    const recording = audit;
    since = scanClock(); // before the sandbox starts: a directory unchanged since cannot have been touched by it
    // A protected or hidden path a host program replaces loses its mount in the sandbox: the sandbox is killed at once.
    const watching = guardRun(planned.plan, options.signal);
    guard = watching;
    result = await execute(planned.plan, {
      ...executeOptions(options),
      signal: watching.signal,
      ...(credentials === undefined ? {} : { credentials }),
      // Written (and fsynced) while the sandbox's launcher waits for its arguments: the command starts after it.
      beforeStart: async () => {
        // The placeholders exist now: one a host program replaces leaves its name writable in the sandbox, as above.
        watching.placeholdersMade();
        await recordStarted(recording, started);
        if (options.signal?.aborted === true) throw new IsolateError('E_CANCELLED', 'the run was cancelled before the command started');
      },
      placeholderSpares: registration.spares,
      lateCleanup: (done) => late.push(done),
    });
  } catch (e: unknown) {
    error = asIsolateError(e);
  }
  const { tripped, stopped } = guard?.finish() ?? { tripped: [], stopped: false };
  if (tripped.length > 0) error = replacedError(tripped, result?.started === true, stopped);
  const replaced = tripped.flatMap((t) => (t.kept === 'protected' ? [t.path] : []));
  const quarantined = planned !== undefined && result?.started === true ? [...moveAsidePaths(replaced, runId.slice(0, 8), REPLACED_REASON), ...neutraliseCreated(planned, runId, since)] : [];
  const cleanupErrors = await releaseRun(registration);
  const report = buildReport({
    runId,
    startedAt,
    command: recorded,
    policy: planned?.policy,
    policySha256,
    plan: planned?.plan,
    decision,
    result,
    error,
    cwd: callerCwd,
    user,
    quarantined,
    cleanupErrors,
    origin: options.origin,
  });
  audit ??= newRunAudit(auditTarget(planned?.policy, options.audit, callerCwd, context(options).env));
  await recordCompleted(audit, report);
  await Promise.all(late);
  report.audit = audit;
  return { report, error: error ?? result?.error, audit };
}

export interface ProxyOptions extends IsolateOptions {
  /** `127.0.0.1:3128`, `[::1]:3128` or a unix socket path. */
  listen: string;
  /** Let --listen name a non-loopback address (an open proxy). */
  allowRemote?: boolean;
  /** Called for every finished connection attempt. */
  onEvent?: (event: NetworkEvent) => void;
  /** Record every connection in the audit log (`enabled: true`; `log`: another file than the profile's or the default). Default: not recorded. */
  audit?: AuditChoice;
  /** Told when a connection's audit record could not be written (the proxy goes on). */
  onWarning?: (text: string) => void;
}

/**
 * The filtering proxy of a filtered run as a server of its own: the profile's
 * (or the options') domain rules and the same address guard. Profiles with
 * credentials are refused: their values would be served to any client.
 */
export const startProxy: (options: ProxyOptions) => Promise<ProxyServer> = guarded(async (options: ProxyOptions) => {
  // No sandbox runs: the proxy's audit log is not checked against the profile's writable paths.
  const { audit: _audit, ...loading } = options;
  const { policy } = await loadPrepared(loading.net === undefined && loading.allowDomain !== undefined ? { ...loading, net: 'filtered' } : loading);
  if (policy.network.mode !== 'filtered') {
    throw new IsolateError('E_USAGE', `the profile's network mode is ${policy.network.mode}: the proxy serves the rules of a filtered network`, {
      fix: 'use a profile with network.mode: filtered, or give --allow-domain',
    });
  }
  if ((policy.credentials ?? []).length > 0) {
    throw new IsolateError('E_USAGE', 'the profile has credentials: isolate proxy does not serve them (any client of the proxy would get their values)', {
      fix: 'use a profile without credentials',
    });
  }
  const audit = await proxyAudit(policy, options);
  const { startProxyServer } = await import('./network/proxy-server.js');
  const onEvent = (e: NetworkEvent): void => {
    options.onEvent?.(e);
    audit?.add(e);
  };
  const server = await startProxyServer({ allow: policy.network.allow, deny: policy.network.deny, listen: options.listen, allowRemote: options.allowRemote, onEvent });
  if (audit === undefined) return server;
  audit.listen = server.address;
  try {
    await audit.start({ allow: policy.network.allow, deny: policy.network.deny });
  } catch (e: unknown) {
    await server.stop();
    throw e;
  }
  const stop = server.stop;
  server.stop = async (graceMs, cut) => {
    await stop(graceMs, cut);
    await audit.drain();
  };
  return server;
});

/** The proxy's audit log when asked for (options.audit.enabled), refused (E_AUDIT_IO) when there is no place for it; the proxy does not serve when its first record cannot be written. */
async function proxyAudit(policy: Policy, options: ProxyOptions): Promise<ProxyAudit | undefined> {
  if (options.audit?.enabled !== true) return undefined;
  const target = auditTarget(policy, options.audit, context(options).callerCwd, context(options).env);
  if (target.log === undefined) {
    throw new IsolateError('E_AUDIT_IO', 'there is no place for the audit log', { fix: 'set HOME or XDG_STATE_HOME, or give --audit-log <file>' });
  }
  const { ProxyAudit } = await import('./audit/proxy-record.js');
  return new ProxyAudit({ log: target.log, user: callingUser(), onWarning: options.onWarning ?? (() => undefined) }, options.listen);
}

