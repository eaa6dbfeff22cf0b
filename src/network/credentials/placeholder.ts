/**
 * Placeholders: what the command sees instead of a credential. Each is made
 * for one run from 128 bits or more of randomness, and keeps the real
 * value's recognisable prefix (ghp_, github_pat_, glpat-, sk-, xoxb-, AKIA,
 * npm_, ...) and its length, so a tool that checks a token's shape accepts
 * it, and the proxy can swap one for the other without changing a
 * Content-Length. Each character after the prefix is drawn from the class of
 * the real one at that place (digit, lower, upper case letter); other
 * characters (- _ . /) are kept. A value too short or too plain to carry 128
 * bits that way gets a longer placeholder of letters and digits instead.
 */
import { randomInt } from 'node:crypto';
import type { AwsKeys } from './sigv4.js';

/** Longest first: github_pat_ before gh..., sk-ant- before sk-. */
export const KNOWN_PREFIXES: readonly string[] = [
  'github_pat_', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'glpat-', 'gldt-', 'sk-ant-', 'sk-proj-', 'sk-', 'rk_live_', 'sk_live_', 'sk_test_',
  'xoxb-', 'xoxp-', 'xoxa-', 'xapp-', 'AKIA', 'ASIA', 'npm_', 'hf_', 'pypi-', 'dop_v1_', 'SG.', 'shpat_', 'ya29.',
].sort((a, b) => b.length - a.length);

export const MIN_PLACEHOLDER_BITS = 128;

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const ALNUM = DIGITS + LOWER + UPPER;

function classOf(c: string): string | undefined {
  if (DIGITS.includes(c)) return DIGITS;
  if (LOWER.includes(c)) return LOWER;
  if (UPPER.includes(c)) return UPPER;
  return undefined;
}

export function prefixOf(value: string): string {
  return KNOWN_PREFIXES.find((p) => value.startsWith(p)) ?? '';
}

const pick = (alphabet: string): string => alphabet[randomInt(alphabet.length)] ?? '';

/** A fresh placeholder for `value`, never equal to it. */
export function makePlaceholder(value: string): string {
  const prefix = prefixOf(value);
  const rest = [...value.slice(prefix.length)];
  const bits = rest.reduce((sum, c) => sum + Math.log2(classOf(c)?.length ?? 1), 0);
  let out: string;
  if (bits >= MIN_PLACEHOLDER_BITS) out = prefix + rest.map((c) => { const cls = classOf(c); return cls === undefined ? c : pick(cls); }).join('');
  else {
    const length = Math.max(rest.length, Math.ceil(MIN_PLACEHOLDER_BITS / Math.log2(ALNUM.length)));
    out = prefix + Array.from({ length }, () => pick(ALNUM)).join('');
  }
  return out === value ? makePlaceholder(value) : out;
}

/** An AWS access key id's type prefix (AKIA: a user's long-term key, ASIA: a temporary one, ...). */
const AWS_KEY_ID_PREFIX = 4;

/**
 * Placeholder AWS keys. The access key id keeps its type prefix (AKIA,
 * ASIA) and its length, the rest upper-case letters and digits (16 of
 * them: 82 random bits, as many as its shape allows); it is an identifier,
 * not a secret. What makes a request the command's is its signature, made
 * with the placeholder secret key: that one, and the session token, carry
 * 128 bits or more.
 */
export function makeAwsPlaceholders(real: AwsKeys): AwsKeys {
  const keyId = (): string => real.accessKeyId.slice(0, AWS_KEY_ID_PREFIX) + Array.from({ length: Math.max(0, real.accessKeyId.length - AWS_KEY_ID_PREFIX) }, () => pick(UPPER + DIGITS)).join('');
  let accessKeyId = keyId();
  while (accessKeyId === real.accessKeyId) accessKeyId = keyId();
  const secretAccessKey = makePlaceholder(real.secretAccessKey);
  return real.sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken: makePlaceholder(real.sessionToken) };
}
