/**
 * The profile schema, as a function that builds it (schema.ts builds it on
 * first use and keeps it). Written with zod's mini API: the same checks,
 * messages and JSON Schema as its classic API, whose every object carries
 * some sixty methods of its own: three to four times the memory and the
 * time to build. The start-up snapshot keeps the schema, so every run loads
 * it (docs/performance.md): 0.24 MB of the snapshot instead of 0.55 MB.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { shown } from '../errors.js';
import { parseRule, type RuleKind } from '../network/rules.js';
import { isKnownSyscall } from '../seccomp/syscalls.js';
import { suggestion } from '../seccomp/presets.js';
import { ENV_VALUE_RULE, isEnvValue } from './environment.js';
import { UNLIMITED, parseCount, parseDuration, parseSize, type LimitParse } from './limits.js';
import { variableNames } from '../network/credentials/spec.js';
import { unseenIn } from './unseen.js';
import type { ProfileDoc } from './types.js';

const noDotDot = (p: string): boolean => !p.split('/').includes('..');

/** The name itself of a protected entry (without its `~/`). */
const nameOf = (p: string): string => (p.startsWith('~/') ? p.slice(2) : p);

/** `schema` with a description (in the JSON Schema): a copy, as zod's classic describe() makes, so that one schema can carry several. */
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  const copy = schema.clone();
  (z.globalRegistry as z.core.$ZodRegistry<{ description: string }>).add(copy, { description });
  return copy;
}

function checked(parse: (v: string | number) => LimitParse) {
  return (v: string | number, ctx: z.core.$RefinementCtx<string | number>): void => {
    const r = parse(v);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
  };
}

/** The profile schema, new: every call builds it again (schema.ts keeps the one it uses). */
/** A check that refuses what a reader would not see in the value (unseen.ts); `trimmed`: the value's ends do not count. */
function shownAsWritten(edges: 'trimmed' | 'kept') {
  return z.superRefine((v: string, ctx) => {
    const message = unseenIn(v, edges);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });
}

export function buildProfileSchema() {
  z.config(en()); // zod's messages in English (its classic API sets them on load, the mini API leaves them to us)
  const duration = z.union([z.string(), z.number()]).check(z.superRefine(checked(parseDuration)));
  const size = z.union([z.string(), z.number()]).check(z.superRefine(checked(parseSize)));
  const count = z.number().check(z.superRefine(checked(parseCount)));
  /** A limit a profile may also remove (from a profile it extends) with "unlimited". */
  const orUnlimited = <T extends z.ZodMiniType>(t: T) => z.union([z.literal(UNLIMITED), t]);

  const profilePath = described(
    z.string().check(
      z.minLength(1, 'expected a non-empty path'),
      z.refine((p) => !p.includes('\0'), 'a path may not contain a NUL byte'),
      z.refine(noDotDot, 'a path may not contain ".." segments'),
      shownAsWritten('kept'),
      z.refine(
        (p) => !/ (\/|~\/|\$\{)/.test(p),
        'holds a space before the start of another path (" /", " ~/" or " ${"): YAML folds a list item continued on the next line without its "-" into one path, which names nothing; write each path as an item of its own',
      ),
      z.refine(
        (p) => p.startsWith('/') || p === '~' || p.startsWith('~/') || p.startsWith('${'),
        'expected an absolute path, "~", "~/..." or one starting with ${CWD}, ${HOME} or ${TMPDIR}',
      ),
    ),
    'Absolute path; may start with ~, ${CWD}, ${HOME} or ${TMPDIR}. Symlinks are resolved.',
  );

  const pathEntry = z.union([
    profilePath,
    z.strictObject({
      path: profilePath,
      optional: described(z.optional(z.boolean()), 'When true, a path that does not exist is skipped instead of being an error.'),
    }),
  ]);

  const protectName = described(
    z.string().check(
      z.minLength(1),
      z.refine((p) => !nameOf(p).startsWith('/') && !p.endsWith('/'), 'expected a relative name such as ".git/hooks", or "~/name" for one in the home directory'),
      z.refine((p) => nameOf(p).split('/').every((s) => s !== '' && s !== '.' && s !== '..' && s !== '~'), 'expected plain path segments (no "", ".", ".." or "~")'),
      z.refine((p) => !/[*?[\]\0]/.test(p), 'wildcards are not supported in protected names'),
      shownAsWritten('kept'),
    ),
    'A name relative to each writable root that stays read-only, e.g. ".git/hooks" (blocked where it is missing); "~/name": one that matters in the home directory (blocked there, protected elsewhere where it exists).',
  );

  const domainPattern = (kind: RuleKind, ports: string) =>
    described(
      z.string().check(
        z.superRefine((p, ctx) => {
          const r = parseRule(p, kind);
          if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
        }),
      ),
      `host, *.suffix or IP, optionally :port or :* (without a port: ${ports}).`,
    );

  const syscallName = z.string().check(
    z.superRefine((n, ctx) => {
      if (isKnownSyscall(n)) return;
      const close = suggestion(n);
      ctx.addIssue({
        code: 'custom',
        message: `${shown(n)} is not a system call name on x86_64 or aarch64${close === undefined ? '' : ` (did you mean ${close}?)`}; see \`man 2 syscalls\``,
      });
    }),
  );

  const commandRule = described(
    z.string().check(z.refine((r) => r.trim() !== '', 'expected a rule such as "git *" or "npm test"'), shownAsWritten('trimmed')),
    'Program then arguments, space-separated; * and ? wildcards; a final * matches any remaining arguments.',
  );

  const envName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)'));
  const envValue = z.string().check(z.refine(isEnvValue, ENV_VALUE_RULE));
  // zod's record skips a "__proto__" key without a word: refuse it, rather than drop a variable the profile names.
  // (A transform piped into the record: what zod's classic preprocess() is.)
  const envSet = z.pipe(
    z.transform((raw: unknown, ctx) => {
      if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__')) {
        ctx.issues.push({ code: 'custom', message: 'this name cannot be set', path: ['__proto__'], input: raw });
      }
      return raw;
    }),
    z.record(envName, envValue),
  );
  const envPattern = z.string().check(z.regex(/^[A-Za-z0-9_*]+$/, 'expected a variable name, optionally with * wildcards (e.g. LC_*)'));

  const credentialSource = described(
    z.union([
      z.strictObject({ env: described(envName, "The caller's variable that holds the value.") }),
      z.strictObject({ file: described(profilePath, 'A file that holds the value (trailing newline dropped).') }),
      z.strictObject({ command: described(z.array(z.string().check(z.minLength(1))).check(z.minLength(1)), 'Program and arguments run outside the sandbox once per run; its output is the value.') }),
    ]),
    'Where isolate reads the real value: { env: NAME }, { file: path } or { command: [program, args...] }. file and command only from a profile that is yours and writable by no one else.',
  );

  const credential = z.strictObject({
    name: described(envName, 'The variable the command sees; it holds a placeholder, never the value. For kind aws, the prefix of its variables: AWS gives AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.'),
    kind: described(
      z.optional(z.enum(['token', 'aws'])),
      "token (the default): one value the proxy puts in requests. aws: AWS keys the command signs with (placeholders); the proxy checks each SigV4 signature and signs again with the real keys. from: { env: PREFIX } reads PREFIX_ACCESS_KEY_ID, PREFIX_SECRET_ACCESS_KEY, PREFIX_SESSION_TOKEN; a file or command gives the JSON of 'aws configure export-credentials --format process'.",
    ),
    from: credentialSource,
    hosts: described(z.array(domainPattern('allow', 'ports 80 and 443')).check(z.minLength(1, 'expected at least one host')), 'The only hosts the real value is sent to (patterns as in network.allow).'),
    ttl: described(z.optional(duration), 'After this long from the start of the run, the proxy stops adding the value, e.g. 15m.'),
  });

  const credentials = z.array(credential).check(
    z.superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((c, i) => {
        for (const name of variableNames(c)) {
          if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `credential ${name} is defined twice`, path: [i, 'name'] });
          seen.add(name);
        }
      });
    }),
  );

  const optional = <T extends z.ZodMiniType>(t: T, description: string) => described(z.optional(t), description);

  return described(
    z.strictObject({
      $schema: optional(z.string(), 'Path or URL of this JSON Schema, for editors.'),
      extends: optional(z.string().check(z.minLength(1), shownAsWritten('kept')), 'A built-in profile name, a user profile name, or a path to a profile file.'),
      description: z.optional(z.string()),
      filesystem: z.optional(
        z.strictObject({
          read: optional(z.array(pathEntry), 'Paths mounted read-only.'),
          write: optional(z.array(pathEntry), 'Paths mounted read-write.'),
          deny: optional(z.array(profilePath), 'Paths hidden from the sandbox (an empty directory or file is shown instead).'),
          tmpfs: optional(z.array(profilePath), 'Paths replaced by an empty, private, writable directory.'),
          protect: optional(z.array(protectName), 'Names kept read-only inside every writable path.'),
        }),
      ),
      network: z.optional(
        z.strictObject({
          mode: optional(z.enum(['none', 'host', 'filtered']), 'none: no network at all; host: the host network; filtered: only the allowed domains, through isolate\'s proxy.'),
          allow: optional(z.array(domainPattern('allow', 'ports 80 and 443')), 'filtered mode: domains the command may reach.'),
          deny: optional(z.array(domainPattern('deny', 'every port')), 'filtered mode: domains it may not reach; deny wins over allow.'),
          upstreamCa: optional(profilePath, "A PEM file of certificates isolate's proxy trusts, besides the system's roots, when it connects to a credential host (internal hosts, tests). Only from a profile that is yours."),
        }),
      ),
      environment: z.optional(
        z.strictObject({
          pass: optional(z.array(envPattern), 'Variables passed from the caller; * is a wildcard.'),
          set: optional(envSet, 'Variables set to a fixed value.'),
          secrets: optional(z.array(envPattern), 'Extra patterns that never pass unless named exactly.'),
        }),
      ),
      process: z.optional(
        z.strictObject({
          cwd: optional(profilePath, 'Working directory inside the sandbox (default ${CWD}).'),
          hostname: z.optional(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/, 'expected a host name'))),
        }),
      ),
      limits: z.optional(
        z.strictObject({
          timeout: optional(duration, 'Wall-clock limit, e.g. 30s or 5m; then SIGTERM, and SIGKILL after killAfter. Exit 124.'),
          killAfter: optional(duration, 'Grace period between SIGTERM and SIGKILL when the timeout fires (default 2s).'),
          cpu: optional(duration, 'CPU time per process (RLIMIT_CPU), whole seconds.'),
          memory: optional(orUnlimited(size), 'Data segment per process (RLIMIT_DATA), e.g. 512M, and the whole sandbox where a cgroup is usable; "unlimited" removes it and the memory ceiling.'),
          processes: optional(orUnlimited(count), 'Processes in the sandbox (RLIMIT_NPROC in its user namespace; pids.max where a cgroup is usable); "unlimited" removes it and the process ceiling.'),
          openFiles: optional(count, 'Open files per process (RLIMIT_NOFILE).'),
          fileSize: optional(size, 'Largest file a process may write (RLIMIT_FSIZE).'),
          tmpfs: optional(orUnlimited(size), 'The size of each tmpfs the sandbox gets (/tmp, a hidden home, /dev/shm), e.g. 1G; refused where the backend cannot enforce it; "unlimited" removes it and the tmpfs ceiling.'),
          ceilings: optional(
            z.strictObject({
              tmpfs: optional(orUnlimited(size), 'The size of each tmpfs.'),
              processes: optional(orUnlimited(count), 'Processes and threads of the whole sandbox: pids.max where a cgroup is usable, else RLIMIT_NPROC unless isolate runs as root.'),
              memory: optional(orUnlimited(size), 'Memory of the whole sandbox, where a cgroup is usable.'),
            }),
            'Ceilings against runaway use, applied where the host and backend can (explain says which); a limit for the same resource replaces its ceiling; "unlimited" removes one.',
          ),
          enforce: optional(z.enum(['rlimit', 'cgroup']), 'rlimit (default): per-process rlimits, plus a cgroup for memory and processes where the host allows one. cgroup: refuse to run unless the sandbox gets a cgroup of its own that enforces them.'),
        }),
      ),
      audit: z.optional(
        z.strictObject({
          enabled: optional(z.boolean(), 'Record every run in the audit log (default true).'),
          log: optional(profilePath, 'The audit log file (default $XDG_STATE_HOME/isolate/audit.jsonl).'),
          required: optional(z.boolean(), 'Refuse to run (exit 125) when the audit log cannot be written.'),
        }),
      ),
      commands: z.optional(
        z.strictObject({
          allow: optional(z.array(commandRule), 'With an allow list, only matching commands start. "git *", "npm test".'),
          deny: optional(z.array(commandRule), 'Commands that never start; deny wins.'),
        }),
      ),
      syscalls: z.optional(
        z.strictObject({
          preset: optional(z.enum(['default', 'none']), 'default: refuse the documented set (docs/system-calls.md; isolate explain lists it); none: start from an empty list (no filter unless deny names calls).'),
          deny: optional(z.array(syscallName), 'Also refuse these system calls (EPERM).'),
          allow: optional(z.array(syscallName), 'Remove these system calls from the preset.'),
        }),
      ),
      credentials: optional(credentials, 'Credentials (network.mode: filtered): the command sees a placeholder; isolate\'s proxy puts the real value into requests to the credential\'s hosts only.'),
    }),
    'An isolate sandbox profile.',
  );
}

export type ProfileSchema = ReturnType<typeof buildProfileSchema>;

// Keep the hand-written types and the schema in step, both ways.
type Inferred = z.infer<ProfileSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Same<Inferred, ProfileDoc> = true;
void schemaMatchesTypes;
