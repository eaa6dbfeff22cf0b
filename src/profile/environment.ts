/**
 * The child's environment: empty, then the profile's allowlist, then what it
 * sets. Names that look like secrets, and values that hold a password (a
 * URL's or a connection string's) or a token of a well-known format
 * (token-shapes.ts), never pass through a wildcard; they pass
 * only when named exactly (`pass: [GITHUB_TOKEN]`, `--env GITHUB_TOKEN`).
 */
import { IsolateError } from '../errors.js';
import { globRegExp, globSource } from '../glob.js';
import { holdsKnownToken } from '../token-shapes.js';

/**
 * Patterns for names that hold secrets. Matched case-insensitively against
 * the whole name; `*` matches any run of characters.
 */
export const SECRET_PATTERNS: readonly string[] = [
  '*TOKEN*',
  '*SECRET*',
  '*PASSWORD*',
  '*PASSWD*',
  '*PASSPHRASE*',
  '*_KEY',
  '*_KEY_*',
  '*APIKEY*',
  '*API_KEY*',
  '*PRIVATE*',
  '*CRED*',
  '*AUTH*',
  '*COOKIE*',
  '*SESSION*',
  '*_PAT',
  '*_PASS',
  '*_PWD',
  '*_DSN',
  '*CONNECTION_STRING*',
  '*DATABASE_URL*',
  'AWS_*',
  'AZURE_*',
  'ARM_*',
  'GOOGLE_*',
  'GCLOUD_*',
  'GCP_*',
  'CLOUDSDK_*',
  'DIGITALOCEAN_*',
  'HCLOUD_*',
  'OS_*',
  'VAULT_*',
  'CONSUL_HTTP_*',
  'KUBECONFIG',
  'DOCKER_*',
  'SSH_*',
  'GPG_*',
  'GNUPGHOME',
  'NPM_CONFIG_*',
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'TWINE_*',
  'CARGO_REGISTRY_*',
  'GH_*',
  'GITHUB_*',
  'GITLAB_*',
  'CI_JOB_*',
  'ACTIONS_*',
  'BUILDKITE_*',
  'CIRCLE_*',
  'TRAVIS_*',
  'HEROKU_*',
  'NETLIFY_*',
  'VERCEL_*',
  'OPENAI_*',
  'ANTHROPIC_*',
  'HF_*',
  'HUGGING_FACE_*',
  'STRIPE_*',
  'TWILIO_*',
  'SENTRY_*',
  'SLACK_*',
];

export function matchesPattern(name: string, pattern: string, caseInsensitive = false): boolean {
  return globRegExp(pattern, { ignoreCase: caseInsensitive }).test(name);
}

/** All of SECRET_PATTERNS as one expression: compiled once, not once per pattern (start-up time). */
let secretRegExp: RegExp | undefined;

export function isSecretName(name: string, extra: readonly string[] = []): boolean {
  secretRegExp ??= new RegExp(`^(?:${SECRET_PATTERNS.map((p) => globSource(p, false)).join('|')})$`, 'iu');
  return secretRegExp.test(name) || extra.some((p) => matchesPattern(name, p, true));
}

/**
 * A value that carries a password whatever its name: a URL with one in its
 * user information (`redis://:pw@cache`, `amqp://app:pw@mq/`), a connection
 * string with a `Password=` or `Pwd=` field, an HTTP `Authorization:` header
 * (git hands `git -c http.extraHeader=...` settings to the programs it starts
 * in GIT_CONFIG_PARAMETERS, and CI scripts set GIT_CONFIG_VALUE_<n> so).
 * Withheld from a wildcard like a secret's name (REDIS_URL, MONGODB_URI and
 * CELERY_BROKER_URL hold them).
 */
/**
 * A password in a URL's user information (`https://user:pw@`, `redis://:pw@`):
 * group 1 is what comes before it. Found from its `://`, not from the
 * scheme: a pattern that starts at each letter that might begin a scheme
 * reads a long word of letters once per letter (a call that stalled the MCP
 * server), and what comes before `://` does not make a password less one.
 */
export const URL_PASSWORD = /(:\/\/[^/\s:@]*:)[^/\s@]+@/g;
const PASSWORD_IN_URL = new RegExp(URL_PASSWORD.source);
const PASSWORD_FIELD = /(?:^|;)\s*(?:password|pwd)\s*=/i;
const AUTH_HEADER = /\bauthorization\s*:\s*\S/i;
export const holdsPassword = (value: string): boolean => PASSWORD_IN_URL.test(value) || PASSWORD_FIELD.test(value) || AUTH_HEADER.test(value);

/** A variable no wildcard passes: a secret-looking name (SECRET_PATTERNS and `extra`), or a value that holds a password or a token of a well-known format. */
export function isSecretVariable(name: string, value: string | undefined, extra: readonly string[] = []): boolean {
  return isSecretName(name, extra) || (value !== undefined && (holdsPassword(value) || holdsKnownToken(value)));
}

export interface EnvironmentRules {
  pass: readonly string[];
  set: Readonly<Record<string, string>>;
  secrets: readonly string[];
}

export interface ComputedEnv {
  env: Record<string, string>;
  /** Names the caller had that matched a pass pattern but were withheld as secrets. */
  withheld: string[];
}

/**
 * A value for the child's environment. No environment can hold a NUL byte,
 * and the backends hand the environment over NUL-separated (bwrap's --args
 * pipe): a NUL would add arguments of its own, such as a bind mount.
 */
export const isEnvValue = (value: string): boolean => !value.includes('\0');
export const ENV_VALUE_RULE = 'a value may not contain a NUL byte';

export function envValue(where: string, value: string): string {
  if (!isEnvValue(value)) throw new IsolateError('E_ENV_INVALID', `${where}: ${ENV_VALUE_RULE}`, { fix: 'remove the NUL byte from the value' });
  return value;
}

/** A credential's variable as the command sees it: the placeholder, never the value (undefined: unset, whatever passes it). */
export interface CredentialVariable {
  name: string;
  placeholder: string | undefined;
}

/** Pure: the exact environment the sandboxed command receives. A credential's placeholder replaces whatever else would set its name. */
export function computeEnvironment(
  rules: EnvironmentRules,
  caller: Readonly<Record<string, string | undefined>>,
  credentials: readonly CredentialVariable[] = [],
): ComputedEnv {
  const env: Record<string, string> = {};
  const withheld: string[] = [];
  const exact = new Set(rules.pass.filter((p) => !p.includes('*')));
  const wild = rules.pass.filter((p) => p.includes('*'));
  for (const name of Object.keys(caller).sort()) {
    const value = caller[name];
    if (value === undefined) continue;
    if (exact.has(name)) {
      env[name] = envValue(`the caller's ${name}`, value);
    } else if (wild.some((p) => matchesPattern(name, p))) {
      if (isSecretVariable(name, value, rules.secrets)) withheld.push(name);
      else env[name] = envValue(`the caller's ${name}`, value);
    }
  }
  for (const [name, value] of Object.entries(rules.set)) env[name] = envValue(`environment.set.${name}`, value);
  for (const c of credentials) {
    if (c.placeholder === undefined) delete env[c.name];
    else env[c.name] = c.placeholder;
  }
  const placed = new Set(credentials.map((c) => c.name));
  return { env, withheld: withheld.filter((n) => !placed.has(n)) };
}
