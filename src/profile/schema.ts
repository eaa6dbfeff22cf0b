/**
 * The profile schema. Loaded lazily: only profile files read from disk and
 * the build step (JSON Schema, built-in profiles) need it.
 */
import * as z from 'zod';
import { shown } from '../errors.js';
import { parseRule, type RuleKind } from '../network/rules.js';
import { isKnownSyscall } from '../seccomp/syscalls.js';
import { suggestion } from '../seccomp/presets.js';
import { ENV_VALUE_RULE, isEnvValue } from './environment.js';
import { UNLIMITED, parseCount, parseDuration, parseSize, type LimitParse } from './limits.js';
import { variableNames } from '../network/credentials/spec.js';
import type { ProfileDoc } from './types.js';

const noDotDot = (p: string): boolean => !p.split('/').includes('..');

const profilePath = z
  .string()
  .min(1, 'expected a non-empty path')
  .refine((p) => !p.includes('\0'), 'a path may not contain a NUL byte')
  .refine(noDotDot, 'a path may not contain ".." segments')
  .refine(
    (p) => p.startsWith('/') || p === '~' || p.startsWith('~/') || p.startsWith('${'),
    'expected an absolute path, "~", "~/..." or one starting with ${CWD}, ${HOME} or ${TMPDIR}',
  )
  .describe('Absolute path; may start with ~, ${CWD}, ${HOME} or ${TMPDIR}. Symlinks are resolved.');

const pathEntry = z.union([
  profilePath,
  z.strictObject({
    path: profilePath,
    optional: z.boolean().optional().describe('When true, a path that does not exist is skipped instead of being an error.'),
  }),
]);

/** The name itself of a protected entry (without its `~/`). */
const nameOf = (p: string): string => (p.startsWith('~/') ? p.slice(2) : p);

const protectName = z
  .string()
  .min(1)
  .refine((p) => !nameOf(p).startsWith('/') && !p.endsWith('/'), 'expected a relative name such as ".git/hooks", or "~/name" for one in the home directory')
  .refine((p) => nameOf(p).split('/').every((s) => s !== '' && s !== '.' && s !== '..' && s !== '~'), 'expected plain path segments (no "", ".", ".." or "~")')
  .refine((p) => !/[*?[\]\0]/.test(p), 'wildcards are not supported in protected names')
  .describe('A name relative to each writable root that stays read-only, e.g. ".git/hooks" (blocked where it is missing); "~/name": one that matters in the home directory (blocked there, protected elsewhere where it exists).');

const domainPattern = (kind: RuleKind, ports: string) =>
  z
    .string()
    .superRefine((p, ctx) => {
      const r = parseRule(p, kind);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
    })
    .describe(`host, *.suffix or IP, optionally :port or :* (without a port: ${ports}).`);

function checked(parse: (v: string | number) => LimitParse) {
  return (v: string | number, ctx: z.RefinementCtx): void => {
    const r = parse(v);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
  };
}
const duration = z.union([z.string(), z.number()]).superRefine(checked(parseDuration));
const size = z.union([z.string(), z.number()]).superRefine(checked(parseSize));
const count = z.number().superRefine(checked(parseCount));
/** A limit a profile may also remove (from a profile it extends) with "unlimited". */
const orUnlimited = <T extends z.ZodType>(t: T) => z.union([z.literal(UNLIMITED), t]);

const syscallName = z.string().superRefine((n, ctx) => {
  if (isKnownSyscall(n)) return;
  const close = suggestion(n);
  ctx.addIssue({
    code: 'custom',
    message: `${shown(n)} is not a system call name on x86_64 or aarch64${close === undefined ? '' : ` (did you mean ${close}?)`}; see \`man 2 syscalls\``,
  });
});

const commandRule = z
  .string()
  .refine((r) => r.trim() !== '', 'expected a rule such as "git *" or "npm test"')
  .describe('Program then arguments, space-separated; * and ? wildcards; a final * matches any remaining arguments.');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)');
const envValue = z.string().refine(isEnvValue, ENV_VALUE_RULE);
// zod's record skips a "__proto__" key without a word: refuse it, rather than drop a variable the profile names.
const envSet = z.preprocess((raw, ctx) => {
  if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__')) {
    ctx.addIssue({ code: 'custom', message: 'this name cannot be set', path: ['__proto__'], input: raw });
  }
  return raw;
}, z.record(envName, envValue));
const envPattern = z
  .string()
  .regex(/^[A-Za-z0-9_*]+$/, 'expected a variable name, optionally with * wildcards (e.g. LC_*)');

const credentialSource = z
  .union([
    z.strictObject({ env: envName.describe("The caller's variable that holds the value.") }),
    z.strictObject({ file: profilePath.describe('A file that holds the value (trailing newline dropped).') }),
    z.strictObject({ command: z.array(z.string().min(1)).min(1).describe('Program and arguments run outside the sandbox once per run; its output is the value.') }),
  ])
  .describe('Where isolate reads the real value: { env: NAME }, { file: path } or { command: [program, args...] }. file and command only from a profile that is yours and writable by no one else.');

const credential = z.strictObject({
  name: envName.describe('The variable the command sees; it holds a placeholder, never the value. For kind aws, the prefix of its variables: AWS gives AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.'),
  kind: z
    .enum(['token', 'aws'])
    .optional()
    .describe(
      "token (the default): one value the proxy puts in requests. aws: AWS keys the command signs with (placeholders); the proxy checks each SigV4 signature and signs again with the real keys. from: { env: PREFIX } reads PREFIX_ACCESS_KEY_ID, PREFIX_SECRET_ACCESS_KEY, PREFIX_SESSION_TOKEN; a file or command gives the JSON of 'aws configure export-credentials --format process'.",
    ),
  from: credentialSource,
  hosts: z.array(domainPattern('allow', 'ports 80 and 443')).min(1, 'expected at least one host').describe('The only hosts the real value is sent to (patterns as in network.allow).'),
  ttl: duration.optional().describe('After this long from the start of the run, the proxy stops adding the value, e.g. 15m.'),
});

const credentials = z.array(credential).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((c, i) => {
    for (const name of variableNames(c)) {
      if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `credential ${name} is defined twice`, path: [i, 'name'] });
      seen.add(name);
    }
  });
});

export const profileSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors.'),
    extends: z.string().min(1).optional().describe('A built-in profile name, a user profile name, or a path to a profile file.'),
    description: z.string().optional(),
    filesystem: z
      .strictObject({
        read: z.array(pathEntry).optional().describe('Paths mounted read-only.'),
        write: z.array(pathEntry).optional().describe('Paths mounted read-write.'),
        deny: z.array(profilePath).optional().describe('Paths hidden from the sandbox (an empty directory or file is shown instead).'),
        tmpfs: z.array(profilePath).optional().describe('Paths replaced by an empty, private, writable directory.'),
        protect: z.array(protectName).optional().describe('Names kept read-only inside every writable path.'),
      })
      .optional(),
    network: z
      .strictObject({
        mode: z
          .enum(['none', 'host', 'filtered'])
          .optional()
          .describe('none: no network at all; host: the host network; filtered: only the allowed domains, through isolate\'s proxy.'),
        allow: z.array(domainPattern('allow', 'ports 80 and 443')).optional().describe('filtered mode: domains the command may reach.'),
        deny: z.array(domainPattern('deny', 'every port')).optional().describe('filtered mode: domains it may not reach; deny wins over allow.'),
        upstreamCa: profilePath
          .optional()
          .describe("A PEM file of certificates isolate's proxy trusts, besides the system's roots, when it connects to a credential host (internal hosts, tests). Only from a profile that is yours."),
      })
      .optional(),
    environment: z
      .strictObject({
        pass: z.array(envPattern).optional().describe('Variables passed from the caller; * is a wildcard.'),
        set: envSet.optional().describe('Variables set to a fixed value.'),
        secrets: z.array(envPattern).optional().describe('Extra patterns that never pass unless named exactly.'),
      })
      .optional(),
    process: z
      .strictObject({
        cwd: profilePath.optional().describe('Working directory inside the sandbox (default ${CWD}).'),
        hostname: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/, 'expected a host name')
          .optional(),
      })
      .optional(),
    limits: z
      .strictObject({
        timeout: duration.optional().describe('Wall-clock limit, e.g. 30s or 5m; then SIGTERM, and SIGKILL after killAfter. Exit 124.'),
        killAfter: duration.optional().describe('Grace period between SIGTERM and SIGKILL when the timeout fires (default 2s).'),
        cpu: duration.optional().describe('CPU time per process (RLIMIT_CPU), whole seconds.'),
        memory: orUnlimited(size).optional().describe('Data segment per process (RLIMIT_DATA), e.g. 512M, and the whole sandbox where a cgroup is usable; "unlimited" removes it and the memory ceiling.'),
        processes: orUnlimited(count).optional().describe('Processes in the sandbox (RLIMIT_NPROC in its user namespace; pids.max where a cgroup is usable); "unlimited" removes it and the process ceiling.'),
        openFiles: count.optional().describe('Open files per process (RLIMIT_NOFILE).'),
        fileSize: size.optional().describe('Largest file a process may write (RLIMIT_FSIZE).'),
        tmpfs: orUnlimited(size).optional().describe('The size of each tmpfs the sandbox gets (/tmp, a hidden home, /dev/shm), e.g. 1G; refused where the backend cannot enforce it; "unlimited" removes it and the tmpfs ceiling.'),
        ceilings: z
          .strictObject({
            tmpfs: orUnlimited(size).optional().describe('The size of each tmpfs.'),
            processes: orUnlimited(count).optional().describe('Processes and threads of the whole sandbox: pids.max where a cgroup is usable, else RLIMIT_NPROC unless isolate runs as root.'),
            memory: orUnlimited(size).optional().describe('Memory of the whole sandbox, where a cgroup is usable.'),
          })
          .optional()
          .describe('Ceilings against runaway use, applied where the host and backend can (explain says which); a limit for the same resource replaces its ceiling; "unlimited" removes one.'),
        enforce: z.enum(['rlimit', 'cgroup']).optional().describe('rlimit (default): per-process rlimits, plus a cgroup for memory and processes where the host allows one. cgroup: refuse to run unless the sandbox gets a cgroup of its own that enforces them.'),
      })
      .optional(),
    audit: z
      .strictObject({
        enabled: z.boolean().optional().describe('Record every run in the audit log (default true).'),
        log: profilePath.optional().describe('The audit log file (default $XDG_STATE_HOME/isolate/audit.jsonl).'),
        required: z.boolean().optional().describe('Refuse to run (exit 125) when the audit log cannot be written.'),
      })
      .optional(),
    commands: z
      .strictObject({
        allow: z.array(commandRule).optional().describe('With an allow list, only matching commands start. "git *", "npm test".'),
        deny: z.array(commandRule).optional().describe('Commands that never start; deny wins.'),
      })
      .optional(),
    syscalls: z
      .strictObject({
        preset: z.enum(['default', 'none']).optional().describe('default: refuse the documented set (docs/system-calls.md; isolate explain lists it); none: start from an empty list (no filter unless deny names calls).'),
        deny: z.array(syscallName).optional().describe('Also refuse these system calls (EPERM).'),
        allow: z.array(syscallName).optional().describe('Remove these system calls from the preset.'),
      })
      .optional(),
    credentials: credentials
      .optional()
      .describe('Credentials (network.mode: filtered): the command sees a placeholder; isolate\'s proxy puts the real value into requests to the credential\'s hosts only.'),
  })
  .describe('An isolate sandbox profile.');

// Keep the hand-written types and the schema in step, both ways.
type Inferred = z.infer<typeof profileSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Same<Inferred, ProfileDoc> = true;
void schemaMatchesTypes;

export interface SchemaIssue {
  path: string;
  message: string;
}

/** Render a key path the way a user reads it: `filesystem.write[2]`; a key that is not a plain name is quoted: `filesystem["rea d"]`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (!/^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/.test(String(key))) out += `[${shown(String(key))}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

const NULL_HINT = ' (a bare ~ is YAML for null: write "~")';

type ZodIssue = z.core.$ZodIssue;

function collectIssues(list: readonly ZodIssue[], prefix: readonly PropertyKey[], out: SchemaIssue[]): void {
  for (const issue of list) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatKeyPath([...path, key]), message: 'unknown key' });
    } else if (issue.code === 'invalid_union') {
      // A path entry is a string or { path, optional }: report against the shape the user wrote.
      const input = (issue as { input?: unknown }).input;
      if (path[path.length - 1] === 'from') {
        out.push({ path: formatKeyPath(path), message: 'expected one of { env: NAME }, { file: path } or { command: [program, args...] }' });
        continue;
      }
      // The branch whose type the value had (it failed inside, or a refinement): its issues say what is wrong.
      const shaped = issue.errors.find((branch) => branch.length > 0 && !branch.some(wrongType));
      const expected = expectedOf(issue.errors);
      const hint = input === null ? NULL_HINT : '';
      if (shaped !== undefined) collectIssues(shaped, path, out);
      else if (expected.includes('object')) out.push({ path: formatKeyPath(path), message: `expected a path string or { path, optional }${hint}` });
      else out.push({ path: formatKeyPath(path), message: `expected ${expected.join(' or ')}, received ${receivedOf(input)}${hint}` });
    } else {
      const hint = issue.message.endsWith('received null') ? NULL_HINT : '';
      out.push({ path: formatKeyPath(path), message: issue.message + hint });
    }
  }
}

/** An issue that says the value itself is not of a branch's type (rather than what is wrong inside it). */
const wrongType = (i: ZodIssue): boolean => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value' || i.code === 'invalid_union');

/** What a union's branches expected of the value itself: types (`string`, `object`) and literal values (`"unlimited"`). */
function expectedOf(branches: readonly (readonly ZodIssue[])[]): string[] {
  const out: string[] = [];
  for (const issue of branches.flat()) {
    if (issue.path.length !== 0) continue;
    if (issue.code === 'invalid_type') out.push(issue.expected);
    else if (issue.code === 'invalid_value') out.push(...issue.values.map((v) => JSON.stringify(v)));
    else if (issue.code === 'invalid_union') out.push(...expectedOf(issue.errors));
  }
  return [...new Set(out)];
}

/** A value as an error message names it: its JSON, or Infinity and NaN, which JSON has not. */
function receivedOf(input: unknown): string {
  return typeof input === 'number' && !Number.isFinite(input) ? String(input) : (JSON.stringify(input) ?? typeof input);
}

export function validateProfileDoc(data: unknown): { ok: true; value: ProfileDoc } | { ok: false; issues: SchemaIssue[] } {
  if (data === null || data === undefined) {
    return { ok: false, issues: [{ path: '(top level)', message: 'the profile is empty; expected a mapping such as `extends: default`' }] };
  }
  const result = profileSchema.safeParse(data, { reportInput: true });
  if (result.success) return { ok: true, value: result.data as ProfileDoc };
  const issues: SchemaIssue[] = [];
  collectIssues(result.error.issues, [], issues);
  return { ok: false, issues };
}

export function profileJsonSchema(): unknown {
  return z.toJSONSchema(profileSchema, { target: 'draft-2020-12' });
}
