/**
 * Credentials in a profile and on the command line: merged by name (a later
 * definition replaces an earlier one), then resolved for the policy. They
 * need the filtered network: only isolate's proxy can put a value into a
 * request, so without it the command would be left with a placeholder and
 * no way to use it.
 */
import { IsolateError, shown } from '../errors.js';
import { parseRule } from '../network/rules.js';
import { variableNames, type CredentialSpec } from '../network/credentials/spec.js';
import { parseDuration } from './limits.js';
import type { MergedCredential, MergedProfile, Policy } from './types.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `{ credentials }` when there are any, else nothing: a profile without credentials has no key (its policy digest is as before). */
export function mergeCredentials(base: readonly MergedCredential[] = [], more: readonly MergedCredential[]): { credentials?: MergedCredential[] } {
  const names = new Set(more.map((c) => c.name));
  const credentials = [...base.filter((c) => !names.has(c.name)), ...more];
  return credentials.length === 0 ? {} : { credentials };
}

const FLAG_FIX =
  'write --credential NAME@host[,host...], e.g. --credential GITHUB_TOKEN@api.github.com,github.com (the value comes from your variable NAME), or --credential aws:AWS@host[,host...] for your AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN';
const AWS_FLAG = 'aws:';

/** `--credential NAME@host[,host...]`: the value from the caller's NAME; `aws:PREFIX@host...`: AWS keys from PREFIX_ACCESS_KEY_ID, ... */
export function credentialFlag(flag: string, i: number): MergedCredential {
  const aws = flag.startsWith(AWS_FLAG);
  const spec = aws ? flag.slice(AWS_FLAG.length) : flag;
  const at = spec.indexOf('@');
  const name = at === -1 ? spec : spec.slice(0, at);
  const hosts = at === -1 ? [] : spec.slice(at + 1).split(',').filter((h) => h !== '');
  if (!ENV_NAME.test(name) || hosts.length === 0) throw new IsolateError('E_USAGE', `--credential ${shown(flag)}: expected NAME@host[,host...]`, { fix: FLAG_FIX });
  for (const h of hosts) {
    const r = parseRule(h, 'allow');
    if (!r.ok) throw new IsolateError('E_NETWORK_RULE', `--credential ${shown(flag)}: ${r.message}`, { fix: FLAG_FIX });
  }
  return { name, ...(aws ? { kind: 'aws' as const } : {}), from: { env: name }, hosts, origin: `--credential[${i}]` };
}

/** Across extends and flags too: no two credentials give the command the same variable (an aws credential and a token named AWS_SESSION_TOKEN). */
function assertOneVariableEach(list: readonly MergedCredential[]): void {
  const owner = new Map<string, string>();
  for (const c of list) {
    for (const name of variableNames(c)) {
      const other = owner.get(name);
      if (other !== undefined) throw new IsolateError('E_PROFILE_INVALID', `${c.origin}: the variable ${name} is also set by ${other}`, { fix: 'give each credential its own variables (rename one, or remove it)' });
      owner.set(name, c.origin);
    }
  }
}

/** The policy's credentials; refused unless the network is filtered. `expand` makes a file path absolute (~, ${HOME}, ...). */
export function resolveCredentials(profile: Pick<MergedProfile, 'credentials' | 'network' | 'origins'>, expand: (raw: string, from: string) => string): Pick<Policy, 'credentials'> {
  const list = profile.credentials ?? [];
  const first = list[0];
  if (first === undefined) return {};
  if (profile.network.mode !== 'filtered') {
    throw new IsolateError('E_NETWORK_RULE', `${first.origin}: credentials need network.mode: filtered, and ${profile.origins['network.mode'] ?? 'the profile'} sets ${profile.network.mode}`, {
      fix: "set network.mode: filtered (or --net filtered) and allow the credential's hosts: only isolate's proxy can add a credential to a request",
    });
  }
  assertOneVariableEach(list);
  return { credentials: list.map((c): CredentialSpec => {
    let ttlMs: number | undefined;
    if (c.ttl !== undefined) {
      const d = parseDuration(c.ttl);
      if (!d.ok) throw new IsolateError('E_PROFILE_INVALID', `${c.origin}.ttl: ${d.message}`, { fix: 'write a duration such as 30s, 15m or 1h' });
      ttlMs = d.value;
    }
    const f = c.from;
    const source: CredentialSpec['source'] =
      'env' in f ? { kind: 'env', name: f.env } : 'file' in f ? { kind: 'file', path: expand(f.file, `${c.origin}.from.file`) } : { kind: 'command', argv: [...f.command] };
    return { name: c.name, ...(c.kind === 'aws' ? { kind: c.kind } : {}), source, hosts: [...c.hosts], ttlMs, from: c.origin };
  }) };
}
