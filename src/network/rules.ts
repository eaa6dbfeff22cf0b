/**
 * Domain rules for the filtered network mode.
 *
 * A pattern is `host`, `*.suffix` or an IP literal (IPv6 in brackets),
 * optionally followed by `:port` or `:*`. Without a port an allow rule covers
 * ports 80 and 443, and a deny rule every port: `--deny-domain example.com`
 * means the host, not the host's web ports, and must not leave
 * `example.com:8080` open to a wider allow rule. `*.example.com` matches
 * every subdomain of example.com, not example.com itself. Host names compare
 * case-insensitively, without a trailing dot. Deny rules win over allow rules.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { IsolateError } from '../errors.js';

/** The ports an allow pattern without a port covers (a deny pattern without one covers every port). */
export const ALLOW_DEFAULT_PORTS: readonly number[] = [80, 443];

/** Which list a pattern is in: it decides what a pattern without a port covers. */
export type RuleKind = 'allow' | 'deny';

export interface DomainRule {
  /** The pattern as written, for messages and reports. */
  pattern: string;
  /** Lower-case host, without `*.`; for IPv6 without brackets. */
  host: string;
  wildcard: boolean;
  /** Specific ports, or 'any' (`:*`, or a deny pattern without a port). */
  ports: readonly number[] | 'any';
  /** The rule names one host and one port: required to reach loopback or private addresses. */
  explicit: boolean;
}

export type RuleParse = { ok: true; rule: DomainRule } | { ok: false; message: string };

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * What node:net's isIP answers (0, 4 or 6), without running its IPv6 pattern
 * on strings that cannot be IPv6 addresses (every one has a colon): the first
 * use of that pattern costs about 3 ms, on the start-up path of every
 * filtered run.
 */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (s.includes(':')) return isIPv6(s) ? 6 : 0;
  return isIPv4(s) ? 4 : 0;
}

/** Lower case, no trailing dot; IPv6 addresses in their one canonical (compressed) form. */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (ipVersion(h) === 6) {
    try {
      return new URL(`http://[${h}]/`).hostname.slice(1, -1);
    } catch {
      return h;
    }
  }
  return h;
}

export function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((l) => LABEL.test(l));
}

export function parseRule(pattern: string, kind: RuleKind): RuleParse {
  let rest = pattern.trim();
  if (rest === '') return { ok: false, message: 'empty pattern' };
  let portPart: string | undefined;
  let host: string;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end === -1) return { ok: false, message: `unclosed "[" in "${pattern}"` };
    host = rest.slice(1, end);
    const after = rest.slice(end + 1);
    if (after !== '' && !after.startsWith(':')) return { ok: false, message: `unexpected "${after}" after "]"` };
    portPart = after === '' ? undefined : after.slice(1);
    if (ipVersion(host) !== 6) return { ok: false, message: `"${host}" is not an IPv6 address` };
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon !== -1 && rest.indexOf(':') !== colon) {
      return { ok: false, message: `write IPv6 addresses in brackets, e.g. "[${rest}]:443"` };
    }
    host = colon === -1 ? rest : rest.slice(0, colon);
    portPart = colon === -1 ? undefined : rest.slice(colon + 1);
  }
  rest = normalizeHost(host);
  let wildcard = false;
  if (rest.startsWith('*.')) {
    wildcard = true;
    rest = rest.slice(2);
  }
  if (rest.includes('*')) return { ok: false, message: `"*" is only allowed as a leading "*." in "${pattern}"` };
  if (ipVersion(rest) === 0 && !isHostName(rest)) return { ok: false, message: `"${host}" is not a host name` };
  if (wildcard && ipVersion(rest) !== 0) return { ok: false, message: `"*." cannot prefix an IP address in "${pattern}"` };
  let ports: DomainRule['ports'];
  if (portPart === undefined) ports = kind === 'deny' ? 'any' : ALLOW_DEFAULT_PORTS;
  else if (portPart === '*') ports = 'any';
  else {
    const n = Number(portPart);
    if (!/^\d{1,5}$/.test(portPart) || n < 1 || n > 65535) return { ok: false, message: `"${portPart}" is not a port (1-65535 or *)` };
    ports = [n];
  }
  return { ok: true, rule: { pattern, host: rest, wildcard, ports, explicit: !wildcard && portPart !== undefined && portPart !== '*' } };
}

export function ruleMatches(rule: DomainRule, host: string, port: number): boolean {
  const h = normalizeHost(host);
  const hostOk = rule.wildcard ? h.endsWith(`.${rule.host}`) : h === rule.host;
  if (!hostOk) return false;
  return rule.ports === 'any' || rule.ports.includes(port);
}

export interface Decision {
  allowed: boolean;
  /** The rule that decided, or null when nothing matched (denied by default). */
  rule: DomainRule | null;
  reason: string;
}

export interface RuleSet {
  allow: readonly DomainRule[];
  deny: readonly DomainRule[];
}

/** The rules of a filtered network from their patterns; a bad pattern is an E_NETWORK_RULE error naming it. */
export function ruleSet(allow: readonly string[], deny: readonly string[]): RuleSet {
  const parsed = (patterns: readonly string[], kind: RuleKind) =>
    patterns.map((p) => {
      const r = parseRule(p, kind);
      if (!r.ok) throw new IsolateError('E_NETWORK_RULE', `network rule ${JSON.stringify(p)}: ${r.message}`);
      return r.rule;
    });
  return { allow: parsed(allow, 'allow'), deny: parsed(deny, 'deny') };
}

export function decide(rules: RuleSet, host: string, port: number): Decision {
  const denied = rules.deny.find((r) => ruleMatches(r, host, port));
  if (denied !== undefined) return { allowed: false, rule: denied, reason: `denied by rule "${denied.pattern}"` };
  // A rule naming this host and port exactly decides over a broader one, wherever it stands: only it lets a loopback or private address through (proxy.ts).
  const allowed = rules.allow.find((r) => r.explicit && ruleMatches(r, host, port)) ?? rules.allow.find((r) => ruleMatches(r, host, port));
  if (allowed !== undefined) return { allowed: true, rule: allowed, reason: `allowed by rule "${allowed.pattern}"` };
  return { allowed: false, rule: null, reason: 'no allow rule matches' };
}
