/**
 * Find, read, validate and merge profiles (`extends`), then apply CLI
 * overrides. Reading files is the only I/O here; YAML and zod are loaded only
 * when a profile file from disk is involved.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { IsolateError, errnoCode, shown } from '../errors.js';
import { parseRule, type RuleKind } from '../network/rules.js';
import { BUILTIN_NAMES, isBuiltinName, loadBuiltin } from './builtin.js';
import { envValue } from './environment.js';
import { linksOnTheWay } from './links.js';
import { isWithin } from './mount-rules.js';
import { parseProfileText, readProfileText, type FileOwner } from './parse.js';
import { checkTrusted, hostActingKeys } from './trust.js';
import { unseenIn } from './unseen.js';
import { credentialFlag, mergeCredentials } from './credentials.js';
import type { LimitsDoc, MergedProfile, NetworkMode, PathEntry, ProfileDoc, SourcedPath } from './types.js';

export interface ProfileOverrides {
  read?: string[];
  write?: string[];
  deny?: string[];
  /** `NAME` passes NAME through (even a secret-looking one); `NAME=VALUE` sets it. */
  env?: string[];
  net?: NetworkMode;
  /** --allow-domain: implies filtered. */
  allowDomain?: string[];
  /** --deny-domain. */
  denyDomain?: string[];
  cwd?: string;
  /** --credential NAME@host[,host...]: the value from the caller's NAME. */
  credential?: string[];
  /** --timeout, --cpu, --memory, --processes, --open-files, --file-size: as in a profile's limits. */
  limits?: LimitsDoc;
}

export interface LoadContext {
  /** Where relative profile paths and CLI paths are resolved from. */
  callerCwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

interface Located {
  id: string;
  label: string;
  /** The symbolic links on the way to a file as it was named (label is its real path). */
  links?: string[];
  dir: string | undefined;
  /** The document, with the owner of the file it was read from (a built-in: none). */
  load: () => Promise<{ doc: ProfileDoc; owner?: FileOwner }>;
}

export function looksLikePath(ref: string): boolean {
  return ref.includes('/') || /\.(ya?ml|json)$/i.test(ref);
}

export function userProfileDir(env: LoadContext['env']): string | undefined {
  const base = env['XDG_CONFIG_HOME'] || (env['HOME'] ? join(env['HOME'], '.config') : undefined);
  return base === undefined ? undefined : join(base, 'isolate', 'profiles');
}

function locate(ref: string, fromDir: string, ctx: LoadContext, referrer: string | undefined): Located {
  const inWhat = referrer === undefined ? '' : ` (extends in ${referrer})`;
  if (looksLikePath(ref)) {
    const file = isAbsolute(ref) ? ref : resolve(fromDir, ref);
    let real: string;
    try {
      real = realpathSync(file);
    } catch (e: unknown) {
      throw new IsolateError('E_PROFILE_NOT_FOUND', `profile file ${file} not found${inWhat}`, {
        detail: errnoCode(e),
        fix: 'check the path, or use a built-in profile name: ' + BUILTIN_NAMES.join(', '),
        cause: e,
      });
    }
    const links = linksOnTheWay(file);
    checkStaysInCwd(file, real, links, ctx.callerCwd, inWhat);
    return { id: `file:${real}`, label: real, links, dir: dirname(real), load: () => readProfileFile(real, inWhat) };
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref)) {
    throw new IsolateError('E_PROFILE_NOT_FOUND', `${shown(ref)} is not a profile name${inWhat}`, {
      fix: 'use a built-in name (' + BUILTIN_NAMES.join(', ') + '), a user profile name, or a path to a file',
    });
  }
  if (isBuiltinName(ref)) {
    return { id: `builtin:${ref}`, label: `builtin:${ref}`, dir: undefined, load: async () => ({ doc: await loadBuiltin(ref) }) };
  }
  const dir = userProfileDir(ctx.env);
  if (dir !== undefined) {
    for (const ext of ['.yaml', '.yml', '.json']) {
      const file = join(dir, ref + ext);
      if (existsSync(file)) {
        const real = realpathSync(file);
        return { id: `file:${real}`, label: real, links: linksOnTheWay(file), dir: dirname(real), load: () => readProfileFile(real, inWhat) };
      }
    }
  }
  throw new IsolateError('E_PROFILE_NOT_FOUND', `unknown profile ${shown(ref)}${inWhat}`, {
    detail: `looked for a built-in profile and for ${dir === undefined ? 'a user profile (no HOME set)' : join(dir, ref + '.yaml')}`,
    fix: `use one of the built-in profiles (${BUILTIN_NAMES.join(', ')}), create ${dir ?? '$XDG_CONFIG_HOME/isolate/profiles'}/${ref}.yaml, or pass a file path`,
  });
}

/**
 * A profile file named in the working directory (`-p ./isolate.yaml`, `extends: ./base.yaml`) that a symbolic
 * link of the project takes out of it: the link came with the project, and a file that reads like the project's
 * would be another, such as one of the user's own profiles with what it grants (rule-links.ts says the same of
 * a rule's path). Refused, naming the link and the file it leads to.
 */
function checkStaysInCwd(file: string, real: string, links: readonly string[], cwd: string, inWhat: string): void {
  if (!isWithin(file, cwd)) return;
  let realCwd = cwd;
  try {
    realCwd = realpathSync(cwd);
  } catch {
    // A working directory that cannot be resolved is refused where the policy is resolved.
  }
  const link = links.find((path) => isWithin(path, cwd));
  if (link === undefined || isWithin(real, realCwd)) return;
  throw new IsolateError('E_PROFILE_INVALID', `profile file ${file} is in the working directory, but reached through the symbolic link ${link} it is ${real}, outside it${inWhat}`, {
    fix: `name ${real} itself if it is meant, so that a reader sees which profile applies; else replace the link ${link} with the file it should be`,
  });
}

const MAX_ISSUES = 20;

/** A profile file's document and the owner of the file it was read from (trust.ts). */
export async function readProfileFile(file: string, inWhat = ''): Promise<{ doc: ProfileDoc; owner: FileOwner }> {
  const { text, owner } = readProfileText(file, inWhat);
  return { doc: await validProfile(file, await parseProfileText(file, text)), owner };
}

async function validProfile(file: string, data: unknown): Promise<ProfileDoc> {
  const { validateProfileDoc } = await import('./schema.js');
  const result = validateProfileDoc(data);
  if (!result.ok) {
    const lines = result.issues.map((i) => `${file}: ${i.path}: ${i.message}`);
    // A generated or mangled file can have thousands of issues: the first ones say what is wrong.
    const more = lines.length > MAX_ISSUES ? [`... and ${lines.length - MAX_ISSUES} more`] : [];
    throw new IsolateError('E_PROFILE_INVALID', lines[0] ?? `${file}: invalid profile`, {
      detail: lines.length > 1 ? [...lines.slice(1, MAX_ISSUES), ...more].join('\n') : undefined,
      fix: 'see the profile reference, docs/profiles.md, or point your editor at profiles/profile.schema.json',
    });
  }
  return result.value;
}

/** A profile with nothing in it, which the first profile of an extends chain is merged onto. */
export function emptyMerged(): MergedProfile {
  return {
    name: '',
    sources: [],
    description: '',
    filesystem: { read: [], write: [], deny: [], tmpfs: [], protect: [] },
    network: { mode: 'none', allow: [], deny: [] },
    environment: { pass: [], set: {}, secrets: [] },
    process: { cwd: '${CWD}', hostname: 'isolate' },
    limits: {},
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: true, log: undefined, required: false },
    origins: {},
  };
}

/** `{ upstreamCa }` when set: a profile without it has no key (its policy digest is as before). */
function upstreamCaOf(path: string | undefined): { upstreamCa?: string } {
  return path === undefined ? {} : { upstreamCa: path };
}

function sourced(entries: readonly (PathEntry | string)[] | undefined, from: string): SourcedPath[] {
  return (entries ?? []).map((e, i) =>
    typeof e === 'string'
      ? { path: e, optional: false, from: `${from}[${i}]` }
      : { path: e.path, optional: e.optional ?? false, from: `${from}[${i}]` },
  );
}

function appendUnique<T>(base: T[], more: T[], key: (t: T) => string): T[] {
  const seen = new Set(base.map(key));
  const out = [...base];
  for (const item of more) {
    const k = key(item);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(item);
    }
  }
  return out;
}

/**
 * The merge rule: lists append (duplicates dropped, the parent's entries
 * first), scalars and `environment.set` entries from the child override.
 */
export function mergeDoc(base: MergedProfile, doc: ProfileDoc, label: string): MergedProfile {
  const fs = doc.filesystem ?? {};
  const byPath = (p: SourcedPath): string => p.path;
  const env = doc.environment ?? {};
  return {
    name: base.name,
    sources: [...base.sources, label],
    ...(base.links === undefined ? {} : { links: base.links }),
    description: doc.description ?? base.description,
    filesystem: {
      read: appendUnique(base.filesystem.read, sourced(fs.read, `${label}: filesystem.read`), byPath),
      write: appendUnique(base.filesystem.write, sourced(fs.write, `${label}: filesystem.write`), byPath),
      deny: appendUnique(base.filesystem.deny, sourced(fs.deny, `${label}: filesystem.deny`), byPath),
      tmpfs: appendUnique(base.filesystem.tmpfs, sourced(fs.tmpfs, `${label}: filesystem.tmpfs`), byPath),
      protect: appendUnique(base.filesystem.protect, fs.protect ?? [], (s) => s),
    },
    network: {
      mode: doc.network?.mode ?? base.network.mode,
      allow: appendUnique(base.network.allow, doc.network?.allow ?? [], (s) => s),
      deny: appendUnique(base.network.deny, doc.network?.deny ?? [], (s) => s),
      ...upstreamCaOf(doc.network?.upstreamCa ?? base.network.upstreamCa),
    },
    environment: {
      pass: appendUnique(base.environment.pass, env.pass ?? [], (s) => s),
      set: { ...base.environment.set, ...(env.set ?? {}) },
      secrets: appendUnique(base.environment.secrets, env.secrets ?? [], (s) => s),
    },
    process: {
      cwd: doc.process?.cwd ?? base.process.cwd,
      hostname: doc.process?.hostname ?? base.process.hostname,
    },
    limits: mergeLimits(base.limits, doc.limits ?? {}),
    syscalls: {
      preset: doc.syscalls?.preset ?? base.syscalls.preset,
      deny: appendUnique(base.syscalls.deny, doc.syscalls?.deny ?? [], (s) => s),
      allow: appendUnique(base.syscalls.allow, doc.syscalls?.allow ?? [], (s) => s),
    },
    commands: {
      allow: appendUnique(base.commands.allow, doc.commands?.allow ?? [], (s) => s),
      deny: appendUnique(base.commands.deny, doc.commands?.deny ?? [], (s) => s),
    },
    audit: {
      enabled: doc.audit?.enabled ?? base.audit.enabled,
      log: doc.audit?.log ?? base.audit.log,
      required: doc.audit?.required ?? base.audit.required,
    },
    ...mergeCredentials(base.credentials, (doc.credentials ?? []).map((c, i) => ({ ...c, origin: `${label}: credentials[${i}]` }))),
    ...passOrigins(base, env.pass ?? [], `${label}: environment.pass`),
    origins: {
      ...base.origins,
      ...(doc.process?.cwd === undefined ? {} : { 'process.cwd': `${label}: process.cwd` }),
      ...(doc.audit?.enabled === undefined ? {} : { 'audit.enabled': `${label}: audit.enabled` }),
      ...(doc.audit?.log === undefined ? {} : { 'audit.log': `${label}: audit.log` }),
      ...(doc.network?.mode === undefined ? {} : { 'network.mode': `${label}: network.mode` }),
    },
  };
}

/** `passOrigins` with `origin` for each variable `pass` names exactly that no earlier entry passed. */
function passOrigins(base: MergedProfile, pass: readonly string[], origin: string): Pick<MergedProfile, 'passOrigins'> {
  const fresh = pass.filter((name) => !name.includes('*') && !base.environment.pass.includes(name));
  return fresh.length === 0 && base.passOrigins === undefined ? {} : { passOrigins: { ...base.passOrigins, ...Object.fromEntries(fresh.map((name) => [name, origin])) } };
}

/** Later values win, key by key (ceilings too). */
function mergeLimits(base: LimitsDoc, over: LimitsDoc): LimitsDoc {
  const out: LimitsDoc = { ...base };
  for (const [k, v] of Object.entries(over) as [keyof LimitsDoc, LimitsDoc[keyof LimitsDoc]][]) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  if (base.ceilings !== undefined && over.ceilings !== undefined) out.ceilings = definedOver(base.ceilings, over.ceilings);
  return out;
}

function definedOver<T extends object>(base: T, over: T): T {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

async function loadChain(ref: string, fromDir: string, ctx: LoadContext, stack: string[], referrer?: string): Promise<MergedProfile> {
  const located = locate(ref, fromDir, ctx, referrer);
  if (stack.includes(located.id)) {
    const chain = [...stack, located.id].map((s) => s.replace(/^(file|builtin):/, '')).join(' -> ');
    throw new IsolateError('E_PROFILE_CYCLE', `profile extends cycle: ${chain}`, {
      fix: 'remove one of the extends entries so the chain ends at a profile without extends',
    });
  }
  const { doc, owner } = await located.load();
  if (owner !== undefined) checkTrusted(located.label, hostActingKeys(doc), owner);
  const base =
    doc.extends === undefined
      ? emptyMerged()
      : await loadChain(doc.extends, located.dir ?? fromDir, ctx, [...stack, located.id], located.label);
  const merged = mergeDoc(base, doc, located.label);
  const links = located.links ?? [];
  return links.length === 0 ? merged : { ...merged, links: [...(merged.links ?? []), ...links] };
}

export async function loadMergedProfile(ref: string, ctx: LoadContext): Promise<MergedProfile> {
  const merged = await loadChain(ref, ctx.callerCwd, ctx, []);
  return { ...merged, name: ref };
}

function checkDomains(flag: string, patterns: readonly string[], kind: RuleKind): string[] {
  for (const p of patterns) {
    const r = parseRule(p, kind);
    if (!r.ok) throw new IsolateError('E_NETWORK_RULE', `${flag} ${shown(p)}: ${r.message}`, { fix: 'write host, *.suffix or an IP, optionally with :port or :*' });
  }
  return [...patterns];
}

/** --net, --allow-domain (implies filtered) and --deny-domain on top of the profile's network. */
export function networkOverrides(base: MergedProfile['network'], o: ProfileOverrides): MergedProfile['network'] {
  const allow = checkDomains('--allow-domain', o.allowDomain ?? [], 'allow');
  const deny = checkDomains('--deny-domain', o.denyDomain ?? [], 'deny');
  if (allow.length > 0 && o.net !== undefined && o.net !== 'filtered') {
    throw new IsolateError('E_USAGE', `--allow-domain needs --net filtered, not --net ${o.net}`, { fix: 'drop --net, or use --net filtered' });
  }
  const mode = o.net ?? (allow.length > 0 ? 'filtered' : base.mode);
  return {
    mode,
    allow: appendUnique(base.allow, allow, (s) => s),
    deny: appendUnique(base.deny, deny, (s) => s),
    ...upstreamCaOf(base.upstreamCa),
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Apply --allow-read/--allow-write/--deny/--env/--net/--cwd on top of a merged profile. */
export function applyOverrides(profile: MergedProfile, o: ProfileOverrides, ctx: LoadContext): MergedProfile {
  const abs = (flag: string) => (p: string, i: number): SourcedPath => {
    if (p === '' || p.includes('\0')) {
      throw new IsolateError('E_PATH_INVALID', `${flag}: expected a path, received ${shown(p)}`);
    }
    const unseen = unseenIn(p, 'kept');
    if (unseen !== undefined) throw new IsolateError('E_PATH_INVALID', `${flag}[${i}]: ${shown(p)} ${unseen}`);
    const expanded = p === '~' || p.startsWith('~/') || p.startsWith('${') ? p : resolve(ctx.callerCwd, p);
    return { path: expanded, optional: false, from: `${flag}[${i}]` };
  };
  const pass: string[] = [];
  const set: Record<string, string> = {};
  for (const item of o.env ?? []) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq);
    if (!ENV_NAME.test(name)) {
      throw new IsolateError('E_ENV_INVALID', `--env: ${shown(name)} is not a valid variable name`, {
        fix: 'use --env NAME to pass a variable from your environment, or --env NAME=VALUE to set one',
      });
    }
    if (eq === -1) pass.push(name);
    else set[name] = envValue(`--env ${name}`, item.slice(eq + 1));
  }
  const byPath = (p: SourcedPath): string => p.path;
  return {
    ...profile,
    filesystem: {
      ...profile.filesystem,
      read: appendUnique(profile.filesystem.read, (o.read ?? []).map(abs('--allow-read')), byPath),
      write: appendUnique(profile.filesystem.write, (o.write ?? []).map(abs('--allow-write')), byPath),
      deny: appendUnique(profile.filesystem.deny, (o.deny ?? []).map(abs('--deny')), byPath),
    },
    network: networkOverrides(profile.network, o),
    environment: {
      ...profile.environment,
      pass: appendUnique(profile.environment.pass, pass, (s) => s),
      set: { ...profile.environment.set, ...set },
    },
    process: { ...profile.process, cwd: o.cwd === undefined ? profile.process.cwd : resolve(ctx.callerCwd, o.cwd) },
    limits: mergeLimits(profile.limits, o.limits ?? {}),
    ...mergeCredentials(profile.credentials, (o.credential ?? []).map(credentialFlag)),
    ...(pass.length === 0 ? {} : { passOrigins: { ...profile.passOrigins, ...Object.fromEntries(pass.map((name) => [name, '--env'])) } }),
    origins: {
      ...profile.origins,
      ...(o.cwd === undefined ? {} : { 'process.cwd': '--cwd' }),
      ...(o.net === undefined ? {} : { 'network.mode': '--net' }),
    },
  };
}
