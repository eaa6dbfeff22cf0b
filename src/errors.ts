/**
 * The one error type isolate throws. Every failure a user can hit has a code,
 * a one-line summary, optional detail and, where there is one, the fix.
 * The CLI maps every IsolateError to exit code 125 unless it names another.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_PROFILE_NOT_FOUND'
  | 'E_PROFILE_PARSE'
  | 'E_PROFILE_INVALID'
  | 'E_PROFILE_CYCLE'
  | 'E_PATH_MISSING'
  | 'E_PATH_INVALID'
  | 'E_PROTECT_SYMLINK'
  | 'E_PROTECTED_REPLACED'
  | 'E_ENV_INVALID'
  | 'E_COMMAND_EMPTY'
  | 'E_COMMAND_NOT_FOUND'
  | 'E_COMMAND_NOT_EXECUTABLE'
  | 'E_COMMAND_REFUSED'
  | 'E_CANCELLED'
  | 'E_BUSY'
  | 'E_BACKEND_MISSING'
  | 'E_BACKEND_UNSUPPORTED'
  | 'E_BACKEND_TOO_OLD'
  | 'E_USERNS_UNAVAILABLE'
  | 'E_SANDBOX_SETUP'
  | 'E_NETWORK_RULE'
  | 'E_LIMIT_INVALID'
  | 'E_LIMIT_UNENFORCEABLE'
  | 'E_SECCOMP_UNSUPPORTED'
  | 'E_CGROUP_UNAVAILABLE'
  | 'E_PRLIMIT_MISSING'
  | 'E_NETWORK_PROXY'
  | 'E_CREDENTIAL'
  | 'E_FORWARDER_MISSING'
  | 'E_STDIO'
  | 'E_IO'
  | 'E_AUDIT_IO'
  | 'E_AUDIT_CORRUPT'
  | 'E_AUDIT_INTACT'
  | 'E_AUDIT_LOCKED'
  | 'E_AUDIT_REPORT'
  | 'E_INTERNAL';

export interface IsolateErrorOptions {
  detail?: string | undefined;
  fix?: string | undefined;
  exitCode?: number | undefined;
  cause?: unknown;
}

/**
 * Control characters (C0, DEL, C1), the Unicode line and paragraph
 * separators, and the direction controls (the marks, embeddings, overrides
 * and isolates): shown raw, U+202E makes a name the sandbox chose read
 * backwards, and what follows it in the line with it. The second keeps newlines.
 */
const SEPARATORS_AND_DIRECTION = String.raw`\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069`;
export const CONTROL = new RegExp(String.raw`[\u0000-\u001f\u007f-\u009f${SEPARATORS_AND_DIRECTION}]`, 'g');
export const CONTROL_BUT_NEWLINE = new RegExp(String.raw`[\u0000-\u0009\u000b-\u001f\u007f-\u009f${SEPARATORS_AND_DIRECTION}]`, 'g');

const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A value the sandbox may have chosen (a path it created), safe to print whole on one line: control characters escaped, nothing cut. */
export const oneLine = (text: string): string => text.replace(CONTROL, escapeChar);
const printable = (text: string | undefined): string | undefined => text?.replace(CONTROL_BUT_NEWLINE, escapeChar);

/**
 * What a terminal shows as it is. A newline or an escape sequence that came in
 * with a user's value (a path, a key) is shown escaped, so it can neither fake
 * a second message nor recolour the terminal. The summary is one line; the
 * detail and the fix keep their own line breaks.
 */
export class IsolateError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly fix: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, summary: string, options: IsolateErrorOptions = {}) {
    super(oneLine(summary), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IsolateError';
    this.code = code;
    this.detail = printable(options.detail);
    this.fix = printable(options.fix);
    this.exitCode = options.exitCode ?? 125;
  }

  toJSON(): { code: ErrorCode; summary: string; detail?: string; fix?: string } {
    return {
      code: this.code,
      summary: this.message,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(this.fix === undefined ? {} : { fix: this.fix }),
    };
  }
}

/**
 * A value from the user's input as it appears in a message: quoted, control
 * characters escaped, and cut after 100 characters (a value can be a megabyte long).
 */
export function shown(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const cut = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  const quoted = `"${cut.replace(/["\\]/g, '\\$&').replace(CONTROL, escapeChar)}"`;
  return value.length > 100 ? `${quoted} (${value.length} characters)` : quoted;
}

export function isIsolateError(e: unknown): e is IsolateError {
  return e instanceof IsolateError;
}

/**
 * Any error as an IsolateError: an error that is not one is a bug in isolate.
 * The API promises IsolateErrors (and run() a report); the original error is
 * kept as the cause, whose stack --debug prints.
 */
export function asIsolateError(e: unknown): IsolateError {
  if (isIsolateError(e)) return e;
  return new IsolateError('E_INTERNAL', `internal error: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e,
    fix: 'this is a bug in isolate; please report it with the command and the profile (--debug prints where it happened)',
  });
}

/** Node's errno-style errors carry a string `code`; read it without trusting the shape. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Whether a write failed because the file system (or the user's quota) is full. */
export function diskFull(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The fix for an audit log write on a full file system (or quota). */
export const AUDIT_FULL_FIX = 'the file system (or your quota) is full: free space there, or set another audit log location';

/** The fix for an audit log write that failed: make room when the file system (or a quota) is full, else `otherwise`. */
export function auditWriteFix(e: unknown, otherwise: string | undefined): string | undefined {
  return diskFull(e) ? AUDIT_FULL_FIX : otherwise;
}

/** A command to run: at least a program, and not an empty one (the CLI, the API and every backend's plan). */
export function requireCommand(command: readonly string[]): void {
  if (command.length === 0 || command[0] === '') {
    throw new IsolateError('E_COMMAND_EMPTY', 'no command given', { fix: 'isolate run [options] -- <command> [args...]' });
  }
}
