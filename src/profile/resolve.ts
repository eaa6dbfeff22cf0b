/**
 * Turn a merged profile into a Policy: expand ~ and ${VARS}, make every path
 * absolute and real (symlinks resolved), and check that what must exist does.
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { IsolateError, errnoCode, shown } from '../errors.js';
import { DEFAULT_KILL_AFTER_MS, UNLIMITED, parseCount, parseDuration, parseSize, type Ceilings, type LimitParse } from './limits.js';
import { isWritable, MISSING_DENY_REASON } from './mount-rules.js';
import type { Limits, LimitsDoc, MergedProfile, MountKind, MountRule, Policy, SourcedPath } from './types.js';
import { checkKernelPath } from './kernel-paths.js';
import { checkSocketDir, ownSocketDirs } from './socket-dirs.js';
import { ciLayoutPaths, ciSecretPaths } from './ci-dirs.js';
import { auditFiles } from '../audit/files.js';
import { checkForeignAuditLog } from './trust.js';
import { checkOwnPath, hiddenOwnDirs, ownProtectedPaths, protectedNames } from './own-paths.js';
import { resolveCredentials } from './credentials.js';
import { checkCredentialOrigins } from './credential-origins.js';
import { checkPlantedProfile } from './planted-profile.js';
import { registeredStateDirs } from './state-registry.js';
import { ownCodePaths } from './own-code.js';
import { checkHiddenFileUnlinked } from './hidden-links.js';
import { checkUpstreamCa } from './upstream-ca.js';
import { writtenByRuns } from './earlier-runs.js';
import { checkRuleLinks, checkRulesLeavingCwd, type SourcedRule } from './rule-links.js';
import { checkPathDirs, pathDirs, type PathDir } from './path-dirs.js';

export interface PathVars {
  CWD: string;
  HOME: string;
  TMPDIR: string;
}

export function pathVars(cwd: string, env: Readonly<Record<string, string | undefined>>, home: string): PathVars {
  return { CWD: cwd, HOME: env['HOME'] || home, TMPDIR: env['TMPDIR'] || '/tmp' };
}

/** Expand `~` and `${CWD}`/`${HOME}`/`${TMPDIR}`; the result is absolute and normalized. */
export function expandPath(raw: string, vars: PathVars, from: string): string {
  let p = raw;
  if (p === '~') p = vars.HOME;
  else if (p.startsWith('~/')) p = join(vars.HOME, p.slice(2));
  p = p.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    if (name === 'CWD' || name === 'HOME' || name === 'TMPDIR') return vars[name];
    throw new IsolateError('E_PATH_INVALID', `${from}: unknown variable \${${name}} in ${shown(raw)}`, {
      fix: 'paths may use ~, ${CWD}, ${HOME} and ${TMPDIR}',
    });
  });
  if (!isAbsolute(p)) {
    throw new IsolateError('E_PATH_INVALID', `${from}: ${shown(raw)} is not an absolute path`, {
      fix: 'write an absolute path, or start it with ~, ${CWD}, ${HOME} or ${TMPDIR}',
    });
  }
  return normalize(p).replace(/(.)\/+$/, '$1');
}

/**
 * What resolving a profile learns about a path. DISK asks this machine; the
 * golden tests describe a synthetic one, so that the real resolvePolicy runs
 * on every host with the same result.
 */
export interface PathLookup {
  /** stat(2), following symlinks: what the path is, or undefined when it does not exist. Throws as node:fs does otherwise. */
  stat(path: string): 'dir' | 'file' | 'other' | undefined;
  /** realpath(3) of an existing path. */
  realpath(path: string): string;
  /** lstat(2): whether the path itself is a symbolic link (false when it does not exist). */
  isSymlink(path: string): boolean;
  /** stat(2)'s st_nlink of an existing file: how many names it has (a synthetic disk without it has one each). */
  links?(path: string): number;
  /** readlink(2) of a symbolic link (a synthetic disk without it has no link inside a link's target: links.ts). */
  readlink?(path: string): string;
}

export const DISK: PathLookup = {
  stat(path) {
    // throwIfNoEntry keeps the common "does not exist" case free of exceptions (this runs for every path of every run).
    const st = statSync(path, { throwIfNoEntry: false });
    return st === undefined ? undefined : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  },
  realpath: (path) => realpathSync.native(path),
  isSymlink: (path) => lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true,
  links: (path) => statSync(path).nlink,
  readlink: (path) => readlinkSync(path),
};

type Found = { real: string; type: MountRule['type'] } | { real: undefined; type: 'missing' };

function inspect(path: string, from: string, disk: PathLookup): Found {
  try {
    const type = disk.stat(path);
    if (type === undefined) return { real: undefined, type: 'missing' };
    return { real: disk.realpath(path), type };
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { real: undefined, type: 'missing' };
    if (code === 'ELOOP') {
      throw new IsolateError('E_PATH_INVALID', `${from}: ${path}: too many levels of symbolic links`, { cause: e });
    }
    if (code === 'ENAMETOOLONG') throw new IsolateError('E_PATH_INVALID', `${from}: ${shown(path)}: the path or a name in it is too long`, { cause: e });
    throw new IsolateError('E_IO', `${from}: cannot inspect ${path}: ${code ?? String(e)}`, { cause: e });
  }
}

/** The real path of `path`, or undefined when it cannot be found (whatever the reason: the caller then uses the path as written). */
function realOrUndefined(path: string, disk: PathLookup): string | undefined {
  try {
    return disk.stat(path) === undefined ? undefined : disk.realpath(path);
  } catch {
    return undefined;
  }
}

/** A path that may not exist yet (tmpfs): resolve its deepest existing ancestor. */
function resolveMaybeMissing(path: string, from: string, disk: PathLookup): string {
  const found = inspect(path, from, disk);
  if (found.real !== undefined) return found.real;
  const parent = dirname(path);
  if (parent === path) return path;
  return join(resolveMaybeMissing(parent, from, disk), basename(path));
}

/** Rules only mean something in filtered mode; in host mode they would be silently ignored, so refuse. */
/** network.upstreamCa as an absolute path. */
function upstreamCaResolved(n: MergedProfile['network'], vars: PathVars): MergedProfile['network'] {
  return n.upstreamCa === undefined ? n : { ...n, upstreamCa: expandPath(n.upstreamCa, vars, 'network.upstreamCa') };
}

export function resolveNetwork(n: MergedProfile['network'], modeFrom = 'network.mode'): Policy['network'] {
  if (n.mode === 'host' && (n.allow.length > 0 || n.deny.length > 0)) {
    throw new IsolateError('E_NETWORK_RULE', `${modeFrom}: network.allow/network.deny are set but network.mode is host, which would not enforce them`, {
      fix: 'set network.mode: filtered (or --net filtered), or remove the domain rules',
    });
  }
  return { mode: n.mode, allow: [...n.allow], deny: [...n.deny], ...(n.upstreamCa === undefined ? {} : { upstreamCa: n.upstreamCa }) };
}

const LIMIT_FLAGS: Record<string, string> = {
  timeout: '--timeout',
  killAfter: 'limits.killAfter',
  cpu: '--cpu',
  memory: '--memory',
  processes: '--processes',
  openFiles: '--open-files',
  fileSize: '--file-size',
  tmpfs: '--tmpfs-size',
};

const LIMIT_FIX = 'durations: 30s, 5m, 1h, 500ms; sizes: 512M, 2G (binary units); counts: positive whole numbers; "unlimited" removes a limit';

/** A parsed limit value: undefined when absent or "unlimited". */
function limitValue(raw: string | number | undefined, parse: (v: string | number) => LimitParse, name: string): number | undefined {
  if (raw === undefined || raw === UNLIMITED) return undefined;
  const r = parse(raw);
  if (!r.ok) throw new IsolateError('E_LIMIT_INVALID', `${name}: ${r.message}`, { fix: LIMIT_FIX });
  return r.value;
}

/** The ceilings no limit replaces (a limit set, or "unlimited", for the same resource takes its place). */
function resolveCeilings(doc: LimitsDoc): Ceilings | undefined {
  const c = doc.ceilings;
  if (c === undefined) return undefined;
  const out: Ceilings = {};
  const tmpfs = doc.tmpfs === undefined ? limitValue(c.tmpfs, parseSize, 'limits.ceilings.tmpfs') : undefined;
  if (tmpfs !== undefined) out.tmpfsBytes = tmpfs;
  const processes = doc.processes === undefined ? limitValue(c.processes, parseCount, 'limits.ceilings.processes') : undefined;
  if (processes !== undefined) out.processes = processes;
  const memory = doc.memory === undefined ? limitValue(c.memory, parseSize, 'limits.ceilings.memory') : undefined;
  if (memory !== undefined) out.memoryBytes = memory;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Parse limit values (profile values were checked by the schema; flags are checked here). */
export function resolveLimits(doc: LimitsDoc): Limits {
  const get = (key: Exclude<keyof LimitsDoc, 'enforce' | 'ceilings'>, parse: (v: string | number) => LimitParse): number | undefined =>
    limitValue(doc[key], parse, `limits.${key} (${LIMIT_FLAGS[key] ?? key})`);
  const limits: Limits = { killAfterMs: get('killAfter', parseDuration) ?? DEFAULT_KILL_AFTER_MS, enforce: doc.enforce ?? 'rlimit' };
  const timeoutMs = get('timeout', parseDuration);
  if (timeoutMs !== undefined) limits.timeoutMs = timeoutMs;
  const cpuMs = get('cpu', parseDuration);
  if (cpuMs !== undefined) limits.cpuSeconds = Math.max(1, Math.ceil(cpuMs / 1000));
  const memoryBytes = get('memory', parseSize);
  if (memoryBytes !== undefined) limits.memoryBytes = memoryBytes;
  const processes = get('processes', (v) => parseCount(v));
  if (processes !== undefined) limits.processes = processes;
  const openFiles = get('openFiles', (v) => parseCount(v));
  if (openFiles !== undefined) limits.openFiles = openFiles;
  const fileSizeBytes = get('fileSize', parseSize);
  if (fileSizeBytes !== undefined) limits.fileSizeBytes = fileSizeBytes;
  const tmpfsBytes = get('tmpfs', parseSize);
  if (tmpfsBytes !== undefined) limits.tmpfsBytes = tmpfsBytes;
  const ceilings = resolveCeilings(doc);
  if (ceilings !== undefined) limits.ceilings = ceilings;
  return limits;
}

export interface ResolveContext {
  vars: PathVars;
  /** The caller's environment, for the XDG directories (isolate's own, and where protected names under .config live). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where paths are looked up (default: DISK). */
  disk?: PathLookup;
  /** The caller's choice over the profile's audit settings (--no-audit, --audit-log), the log absolute. */
  audit?: { enabled?: boolean | undefined; log?: string | undefined };
  /** The caller's home as the password database gives it, where a login starts (host/login-home.ts): its ~/bin is protected also when HOME names another. */
  loginHome?: string | undefined;
  /** isolate's own code (default: where this process's code is, own-code.ts); the start-up snapshot's warm-up names a made-up one. */
  ownCode?: readonly string[];
  /**
   * The environment this process was started with, when it is not `env` (the Node API's callerEnv may leave out what a
   * CI runner set): the CI secret directories it names are hidden too (ci-dirs.ts).
   */
  processEnv?: Readonly<Record<string, string | undefined>>;
}

type Skipped = Policy['filesystem']['skipped'][number];
type Env = Readonly<Record<string, string | undefined>>;

/** A tmpfs path: created in the sandbox whether or not it exists on the host. */
function tmpfsRule(abs: string, entry: SourcedPath, env: Env, disk: PathLookup): MountRule {
  const real = resolveMaybeMissing(abs, entry.from, disk);
  checkKernelPath('tmpfs', real, entry.from, entry.path);
  checkOwnPath('tmpfs', real, entry.from, entry.path, env);
  const isLink = real !== abs && disk.isSymlink(abs);
  return { kind: 'tmpfs', path: real, requested: abs, type: 'dir', ...(isLink ? { linkFrom: abs } : {}) };
}

/**
 * What a shell would expand in a path and isolate does not: a pattern's characters (`*`, `?`, `[`, braces, `|`) and
 * a variable other than the ${CWD}, ${HOME} and ${TMPDIR} a profile's paths may use (`$HOME/x` on the command line).
 */
const SHELL_SYNTAX = /[*?[\]{}|$]/;

/** The path without the variables a profile's paths may use, which isolate expands. */
const withoutVariables = (path: string): string => path.replace(/\$\{(?:CWD|HOME|TMPDIR)\}/g, '');

/**
 * A path that does not exist: skipped when hiding it or when it is optional, else an error. A hidden path with what a
 * shell would expand (`~/vault/*.pem`, `~/vault/{a,b}.pem`) is refused: it names one file of that very name, so it
 * would hide nothing.
 */
function missingPath(kind: MountKind, abs: string, entry: SourcedPath): Skipped {
  if (kind === 'deny' && SHELL_SYNTAX.test(withoutVariables(entry.path))) {
    const at = abs.search(SHELL_SYNTAX);
    // The directory above the first pattern character, as a hint; none for a variable (its directory is not meant).
    const dir = abs[at] === '$' ? '' : abs.slice(0, Math.max(0, at)).replace(/\/[^/]*$/, '');
    throw new IsolateError('E_PROFILE_INVALID', `${entry.from}: hidden path ${abs} does not exist: paths are not patterns and name no variable but \${CWD}, \${HOME} and \${TMPDIR} (*, ?, [, {, |, $ are taken as they are), so it would hide nothing`, {
      fix: `name each file to hide (from ~ or /), or the directory that holds them${dir === '' ? '' : ` (deny: ["${dir}"])`}`,
    });
  }
  if (kind === 'deny') return { path: abs, reason: MISSING_DENY_REASON };
  if (entry.optional) return { path: abs, reason: `${kind}: optional and does not exist` };
  throw new IsolateError('E_PATH_MISSING', `${entry.from}: ${kind === 'write' ? 'writable' : 'readable'} path ${abs} does not exist`, {
    fix:
      kind === 'write'
        ? `create it first, or mark it optional in the profile: { path: "${entry.path}", optional: true }`
        : `check the path, or mark it optional in the profile: { path: "${entry.path}", optional: true }`,
  });
}

/** One filesystem entry of the profile as a mount rule, or why it is skipped. */
/** `sockets`: the caller's own socket directories (socket-dirs.ts, ownSocketDirs). */
function mountRule(kind: MountKind, entry: SourcedPath, vars: PathVars, env: Env, disk: PathLookup, sockets: readonly string[]): MountRule | Skipped {
  const abs = expandPath(entry.path, vars, entry.from);
  if (kind === 'tmpfs') return tmpfsRule(abs, entry, env, disk);
  const found = inspect(abs, entry.from, disk);
  if (found.real === undefined) return missingPath(kind, abs, entry);
  if (found.real === '/' && kind !== 'deny') {
    throw new IsolateError('E_PATH_INVALID', `${entry.from}: ${shown(entry.path)} is the root directory; isolate will not expose the whole filesystem`, {
      fix: 'run isolate from a project directory (or pass --cwd <dir>), and name the other paths the command needs',
    });
  }
  checkKernelPath(kind, found.real, entry.from, entry.path);
  checkOwnPath(kind, found.real, entry.from, entry.path, env);
  checkSocketDir(kind, found.real, entry.from, entry.path, sockets);
  const isLink = found.real !== abs && disk.isSymlink(abs);
  return { kind, path: found.real, requested: abs, type: found.type, ...(isLink ? { linkFrom: abs } : {}) };
}

/** The working directory, which must be an existing directory. */
function resolveCwd(profile: MergedProfile, vars: PathVars, disk: PathLookup): string {
  const cwdFrom = profile.origins['process.cwd'] ?? 'process.cwd';
  const cwdAbs = expandPath(profile.process.cwd, vars, cwdFrom);
  const cwd = inspect(cwdAbs, cwdFrom, disk);
  if (cwd.real === undefined || cwd.type !== 'dir') {
    throw new IsolateError('E_PATH_MISSING', `${cwdFrom}: working directory ${cwdAbs} is not an existing directory`, {
      fix: 'pass --cwd with an existing directory',
    });
  }
  return cwd.real;
}

export function resolvePolicy(profile: MergedProfile, ctx: ResolveContext): Policy {
  const env = { ...ctx.env, HOME: ctx.vars.HOME };
  const disk = ctx.disk ?? DISK;
  const sockets = ownSocketDirs(env, (path) => realOrUndefined(path, disk));
  const mounts: MountRule[] = [];
  const sourced: SourcedRule[] = [];
  const skipped: Skipped[] = [];
  const add = (kind: MountKind, entries: SourcedPath[], check?: (rule: MountRule, from: string) => void): void => {
    for (const entry of entries) {
      const r = mountRule(kind, entry, ctx.vars, env, disk, sockets);
      if ('kind' in r) {
        check?.(r, entry.from);
        mounts.push(r);
        sourced.push({ rule: r, from: entry.from });
      } else skipped.push(r);
    }
  };
  add('tmpfs', profile.filesystem.tmpfs);
  add('read', profile.filesystem.read);
  add('write', profile.filesystem.write);
  add('deny', profile.filesystem.deny, (rule, from) => checkHiddenFileUnlinked(rule, (path) => disk.links?.(path) ?? 1, from));
  // isolate's own state, configuration and runtime directory are hidden wherever a rule would show them (dev reads the home).
  const exists = (path: string): boolean => inspect(path, path, disk).type !== 'missing';
  const own = hiddenOwnDirs(env);
  add('deny', own.filter(exists).map((path) => ({ path, optional: true, from: "isolate's own directory" })));
  // And its state directories of runs with another XDG_STATE_HOME (state-registry.ts).
  add('deny', registeredStateDirs(env).filter((path) => !own.includes(path) && exists(path)).map((path) => ({ path, optional: true, from: "isolate's state directory of other runs" })));
  // A CI job's secrets on disk beside the checkout (ci-dirs.ts): hidden wherever a rule would show them (dev reads the home).
  // Told by the runner's variables (the caller's, and this process's), or, with them cleared, by the checkout's place: where isolate was started and the
  // working directory the run has (a profile's process.cwd, a real path); a path named twice is hidden once.
  const cwd = resolveCwd(profile, ctx.vars, disk);
  const ci = [...ciSecretPaths(env), ...ciSecretPaths(ctx.processEnv ?? {}), ...ciLayoutPaths(cwd, ctx.vars.CWD)].filter((s, i, all) => all.findIndex((o) => o.path === s.path) === i);
  add('deny', ci.filter((s) => exists(s.path)).map(({ path, from }) => ({ path, optional: true, from })));
  checkProfileLinks(profile, mounts);
  const audit = resolveAudit(profile.audit, ctx.vars, mounts, profile.origins['audit.log'] ?? 'audit.log', disk);
  const chosen = ctx.audit?.log;
  const auditing = ctx.audit?.enabled ?? audit.enabled;
  if (auditing && chosen !== undefined) checkAuditLog(chosen, mounts, '--audit-log', disk);
  if (auditing && chosen === undefined && audit.log !== undefined) checkForeignAuditLog(audit.log, profile.origins, env, ctx.vars.HOME);
  // The record of earlier runs, wherever it is, is hidden like isolate's own directories (dev reads the home).
  const logs = [...new Set([chosen, audit.log].filter((l): l is string => l !== undefined))];
  add('deny', logs.flatMap(auditFiles).filter(exists).map((path) => ({ path, optional: true, from: 'the audit log' })));
  // A credential's file holds the value the command must never see, only its placeholder: hidden wherever a rule would show it.
  const credentials = resolveCredentials(profile, (raw, from) => expandPath(raw, ctx.vars, from));
  // Host-acting files: outside what this run's sandbox can write, and what an earlier run's could have (earlier-runs.ts).
  const planted = writtenByRuns(mounts, [ctx.vars.CWD, cwd], own, ctx.vars.HOME, (path) => disk.stat(path));
  checkCredentialOrigins(credentials.credentials ?? [], planted);
  checkPlantedProfile({ profile, rules: sourced, secretDirs: ci.map((s) => s.path), callerEnv: env, written: planted });
  add('deny', credentialFiles(credentials).filter((f) => exists(f.path)).map(({ path, from }) => ({ path, optional: true, from: `${from}.from.file` })));
  // So is the CA the proxy trusts for credential hosts (the command trusts the run's CA), once it is known to lie outside every writable path.
  const network = resolveNetwork(upstreamCaResolved(profile.network, ctx.vars), profile.origins['network.mode']);
  const ca = network.upstreamCa;
  if (ca !== undefined) checkUpstreamCa(ca, planted);
  if (ca !== undefined && exists(ca)) add('deny', [{ path: ca, optional: true, from: 'network.upstreamCa' }]);
  checkRuleLinks(sourced, mounts, disk);
  checkRulesLeavingCwd(sourced, ctx.vars.CWD, disk);
  // The directories the host runs programs from by name (path-dirs.ts): read-only inside a writable path, or the run is refused.
  const onPath = pathDirs(env, ctx.vars.CWD, [env['HOME'], ctx.loginHome], disk);
  checkPathDirs(onPath, mounts);

  return {
    profile: { name: profile.name, sources: profile.sources, description: profile.description },
    filesystem: { mounts, ...protection(profile, env, ctx.ownCode ?? ownCodePaths(), onPath), skipped },
    network,
    environment: {
      pass: [...profile.environment.pass],
      set: { ...profile.environment.set },
      secrets: [...profile.environment.secrets],
    },
    process: { cwd, hostname: profile.process.hostname },
    limits: resolveLimits(profile.limits),
    syscalls: { preset: profile.syscalls.preset, deny: [...profile.syscalls.deny], allow: [...profile.syscalls.allow] },
    commands: { allow: [...profile.commands.allow], deny: [...profile.commands.deny] },
    audit,
    ...credentials,
  };
}

/** The files credentials are read from, with the rule that names each. */
function credentialFiles(c: Pick<Policy, 'credentials'>): { path: string; from: string }[] {
  return (c.credentials ?? []).flatMap((spec) => (spec.source.kind === 'file' ? [{ path: spec.source.path, from: spec.from }] : []));
}

/** The protected names and absolute paths (own-paths.ts), the profile files themselves, isolate's own code (own-code.ts), and the directories the host runs programs from (path-dirs.ts), with why. */
function protection(
  profile: MergedProfile,
  env: Readonly<Record<string, string | undefined>>,
  ownCode: readonly string[],
  onPath: readonly PathDir[],
): Pick<Policy['filesystem'], 'protect' | 'protectExisting' | 'protectPaths' | 'protectWhy'> {
  const names = protectedNames(profile.filesystem.protect);
  const paths = [...ownProtectedPaths(env, profile.filesystem.protect), ...profileFiles(profile), ...ownCode];
  const why = onPath.filter((d, i) => onPath.findIndex((o) => o.real === d.real) === i);
  return {
    protect: names.blocked,
    ...(names.existing.length === 0 ? {} : { protectExisting: names.existing }),
    protectPaths: [...paths, ...why.map((d) => d.real).filter((p) => !paths.includes(p))],
    ...(why.length === 0 ? {} : { protectWhy: why.map((d) => ({ path: d.real, why: d.why })) }),
  };
}

/** The profile files merged into this policy: read-only in every sandbox where they are inside a writable path (a run must not rewrite the policy of the next). */
function profileFiles(profile: MergedProfile): string[] {
  return profile.sources.filter((source) => isAbsolute(source));
}

/** A profile file reached through a symbolic link the sandbox could replace: the command would choose the next run's profile. */
function checkProfileLinks(profile: MergedProfile, mounts: readonly MountRule[]): void {
  const link = (profile.links ?? []).find((path) => isWritable(mounts, path));
  if (link === undefined) return;
  throw new IsolateError('E_PROTECT_SYMLINK', `the profile is read through the symbolic link ${link}, inside a path the sandbox can write: the command could point it at a profile of its own for the next run`, {
    fix: `name the profile file by its real path (${profile.sources.filter((s) => isAbsolute(s)).join(', ')}), or replace the link with the file it points to`,
  });
}

/** The audit log outside every path the sandbox can write: a command must not be able to rewrite the record of its own run. */
export function checkAuditLog(log: string, mounts: readonly MountRule[], from: string, disk: PathLookup = DISK): void {
  if (!isWritable(mounts, resolveMaybeMissing(log, from, disk))) return;
  throw new IsolateError('E_PATH_INVALID', `${from}: ${log} is inside a path the sandbox can write, so the command could rewrite its own record`, {
    fix: 'put the audit log outside the writable paths (the default, $XDG_STATE_HOME/isolate/audit.jsonl, always is)',
  });
}

function resolveAudit(audit: MergedProfile['audit'], vars: PathVars, mounts: readonly MountRule[], from: string, disk: PathLookup): Policy['audit'] {
  const log = audit.log === undefined ? undefined : resolveMaybeMissing(expandPath(audit.log, vars, from), from, disk);
  if (log !== undefined) checkAuditLog(log, mounts, from, disk);
  return { enabled: audit.enabled, log, required: audit.required };
}
