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
  | 'E_PROTECT_SCAN_LIMIT'
  | 'E_ENV_INVALID'
  | 'E_COMMAND_EMPTY'
  | 'E_COMMAND_NOT_FOUND'
  | 'E_COMMAND_NOT_EXECUTABLE'
  | 'E_COMMAND_REFUSED'
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
  | 'E_FORWARDER_MISSING'
  | 'E_IO'
  | 'E_AUDIT_IO'
  | 'E_AUDIT_CORRUPT'
  | 'E_AUDIT_INTACT'
  | 'E_AUDIT_LOCKED'
  | 'E_AUDIT_REPORT';

export interface IsolateErrorOptions {
  detail?: string | undefined;
  fix?: string | undefined;
  exitCode?: number | undefined;
  cause?: unknown;
}

export class IsolateError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly fix: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, summary: string, options: IsolateErrorOptions = {}) {
    super(summary, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IsolateError';
    this.code = code;
    this.detail = options.detail;
    this.fix = options.fix;
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

export function isIsolateError(e: unknown): e is IsolateError {
  return e instanceof IsolateError;
}

/** Node's errno-style errors carry a string `code`; read it without trusting the shape. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** The fix for a write that failed: make room when the file system (or a quota) is full, else `otherwise`. */
export function writeFix(e: unknown, otherwise: string | undefined): string | undefined {
  const code = errnoCode(e);
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the file system (or your quota) is full: free space there, or set another audit log location';
  return otherwise;
}
