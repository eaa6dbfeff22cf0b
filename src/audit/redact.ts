/**
 * Redact secret-looking values from a command line before it is reported or
 * logged: values of secret-named options (`--token=…`, `--password …`),
 * secret-named assignments (`GITHUB_TOKEN=…`), passwords in URLs, bearer and
 * basic credentials in headers, and well-known token formats wherever they
 * appear. The argument count is kept, so the shape of the command stays
 * readable.
 */
import { isSecretName } from '../profile/environment.js';
import { TOKEN_SHAPES } from '../token-shapes.js';

export const REDACTED = '<redacted>';

const SECRET_WORD = /(token|secret|passw(or)?d|passphrase|api[-_]?key|access[-_]?key|private[-_]?key|auth|credential|cookie|session)/i;

function redactInline(arg: string): string {
  let out = arg;
  for (const re of TOKEN_SHAPES) out = out.replace(re, REDACTED);
  // scheme://user:password@host
  out = out.replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^/\s@]+@/gi, `$1${REDACTED}@`);
  // Authorization: Bearer xyz / Basic xyz, and other credential headers
  out = out.replace(/^((?:proxy-)?authorization\s*:\s*)(.*)$/i, `$1${REDACTED}`);
  out = out.replace(/^((?:x-[a-z-]*)?(?:api-?key|token|secret)\s*:\s*)(.*)$/i, `$1${REDACTED}`);
  return out;
}

export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let redactNext = false;
  for (const arg of argv) {
    if (redactNext) {
      out.push(REDACTED);
      redactNext = false;
      continue;
    }
    const opt = /^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)(=)(.*)$/s.exec(arg);
    if (opt !== null && SECRET_WORD.test(opt[1] ?? '')) {
      out.push(`${opt[1]}=${REDACTED}`);
      continue;
    }
    if (/^--[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(arg) && SECRET_WORD.test(arg)) {
      out.push(arg);
      redactNext = true;
      continue;
    }
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(arg);
    if (assign !== null && (isSecretName(assign[1] ?? '') || SECRET_WORD.test(assign[1] ?? ''))) {
      out.push(`${assign[1]}=${REDACTED}`);
      continue;
    }
    out.push(redactInline(arg));
  }
  return out;
}
