/**
 * The files of one audit log, by name: the log, its head file and its lock
 * (see log.ts and lock.ts). Pure, so the profile layer can hide them from
 * the sandbox wherever the log is.
 */

/** The head file of `file`. */
export function headPath(file: string): string {
  return `${file}.head`;
}

/** The lock file of `file`. */
export function lockPath(file: string): string {
  return `${file}.lock`;
}

/** The log and the files beside it that carry its records (the lock only lives during an append). */
export function auditFiles(file: string): string[] {
  return [file, headPath(file)];
}
