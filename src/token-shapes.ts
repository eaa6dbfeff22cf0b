/**
 * What a token looks like: the well-known formats of the services whose
 * tokens end up in command lines and configuration files, and a generic
 * shape for the rest. One definition for the audit log's redaction
 * (audit/redact.ts), the git scrubber's user names (host/git-credentials.ts)
 * and the variables a wildcard passes (profile/environment.ts).
 */

/** Well-known token formats, to be found anywhere in a text (global): GitHub, GitLab, Slack, OpenAI and Anthropic, AWS key ids, npm, Google API keys, JWTs. */
export const TOKEN_SHAPES: readonly RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g, // JWT
];

const WHOLE: readonly RegExp[] = TOKEN_SHAPES.map((re) => new RegExp(`^(?:${re.source})$`));
/** The same formats, without the global flag's state between tests. */
const ANYWHERE: readonly RegExp[] = TOKEN_SHAPES.map((re) => new RegExp(re.source));

/** Whether a text holds a token of a well-known format anywhere (a variable whose name says nothing of it). */
export function holdsKnownToken(text: string): boolean {
  return ANYWHERE.some((re) => re.test(text));
}

/**
 * Longer than a person's user name runs (GitHub allows 39 characters), all of a token's characters, with letters and
 * digits: a classic GitHub token (40 hex), an Azure DevOps token (52), a GitLab token of before its prefix.
 */
const GENERIC = /^(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}$/;

/** Whether a whole value (a user name, say) looks like a token. */
export function looksLikeToken(value: string): boolean {
  return GENERIC.test(value) || WHOLE.some((re) => re.test(value));
}
