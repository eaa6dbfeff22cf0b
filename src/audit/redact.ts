/**
 * Redact secret-looking values from a command line before it is reported or
 * logged: values of secret-named options (`--token=…`, `--password …`),
 * secret-named assignments (`GITHUB_TOKEN=…`), passwords in URLs, bearer and
 * basic credentials in headers, and well-known token formats wherever they
 * appear. The argument count is kept, so the shape of the command stays
 * readable. A shell's script (the argument after `-c`, as `sh -c '…'` and
 * every command of the MCP server take one) is redacted within its text:
 * the same forms, wherever in it they stand.
 */
import { isSecretName, URL_PASSWORD } from '../profile/environment.js';
import { TOKEN_SHAPES } from '../token-shapes.js';

export const REDACTED = '<redacted>';

const SECRET_WORD = /(token|secret|passw(or)?d|passphrase|api[-_]?key|access[-_]?key|private[-_]?key|auth|credential|cookie|session)/i;

function redactInline(arg: string): string {
  let out = arg;
  for (const re of TOKEN_SHAPES) out = out.replace(re, REDACTED);
  // scheme://user:password@host
  out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  // Authorization: Bearer xyz / Basic xyz, and other credential headers
  out = out.replace(/^((?:proxy-)?authorization\s*:\s*)(.*)$/i, `$1${REDACTED}`);
  out = out.replace(/^((?:x-[a-z-]*)?(?:api-?key|token|secret)\s*:\s*)(.*)$/i, `$1${REDACTED}`);
  return out;
}

/** A word of a script as the shell reads it: quoted, or up to a blank or an operator. */
const WORD = String.raw`("[^"]*"|'[^']*'|[^\s'";&|()]+)`;
const SCRIPT_OPTION = new RegExp(String.raw`(^|\s)(--?[A-Za-z0-9][A-Za-z0-9_.-]*)(=|\s+)${WORD}`, 'g');
const SCRIPT_ASSIGNMENT = new RegExp(String.raw`(^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=${WORD}?`, 'g');
const SCRIPT_HEADER = /((?:proxy-)?authorization|(?:x-[a-z-]*)?(?:api-?key|token|secret)|private-token|job-token|cookie)(\s*:\s*)[^'"\n]*/gi;

/** A shell script with the values of secret-named options, assignments and credential headers redacted where they stand in it. */
function redactScript(script: string): string {
  return redactInline(script)
    .replace(SCRIPT_HEADER, `$1$2${REDACTED}`)
    .replace(SCRIPT_OPTION, (m: string, pre: string, name: string, sep: string) => (SECRET_WORD.test(name) ? `${pre}${name}${sep}${REDACTED}` : m))
    .replace(SCRIPT_ASSIGNMENT, (m: string, pre: string, name: string) => (isSecretName(name) || SECRET_WORD.test(name) ? `${pre}${name}=${REDACTED}` : m));
}

/** Whether `option` gives a shell its script in the next argument (`-c`, `-lc`, `-ec`). */
const takesScript = (option: string | undefined): boolean => option !== undefined && /^-[A-Za-z]*c$/.test(option);

export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let redactNext = false;
  for (const [i, arg] of argv.entries()) {
    if (takesScript(argv[i - 1]) && /\s/.test(arg)) {
      out.push(redactScript(arg));
      continue;
    }
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
