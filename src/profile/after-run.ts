/**
 * Protected names that no placeholder can stand in for during a run, because
 * a program must be able to see that they do not exist: git reads
 * `.git/commondir` when it is there, and would fail on an unreadable one.
 * An existing one stays read-only like every protected name; one the run
 * creates is caught after the run (run/quarantine.ts).
 */
export const AFTER_RUN_NAMES: readonly string[] = ['.git/commondir'];
