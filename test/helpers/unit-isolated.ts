/**
 * The unit files that run each in a fresh worker (the unit-isolated project in
 * test/vitest.config.ts); the other unit files share their worker's loaded
 * modules with the files before them. A file belongs here when it mocks a
 * module, changes the process (its environment, working directory, clock) or
 * depends on the state of a module it loads (the shell parser's budget and
 * abort): shared, it would change what the next file sees, or see what the
 * last one left. test/unit/unit-isolated.test.ts finds the first two kinds.
 */
export const UNIT_ISOLATED: readonly string[] = [
  'test/unit/after-run-reuse.test.ts',
  'test/unit/after-run-scan.test.ts',
  'test/unit/api-errors.test.ts',
  'test/unit/audit-log.test.ts',
  'test/unit/cli-program.test.ts',
  'test/unit/credential-ttl-clock.test.ts',
  'test/unit/git-config-read-once.test.ts',
  'test/unit/git-home-unlistable.test.ts',
  'test/unit/mcp-calls.test.ts',
  'test/unit/own-dir.test.ts',
  'test/unit/policy-parse-abort.test.ts',
  'test/unit/policy-parse-bound.test.ts',
  'test/unit/process.test.ts',
  'test/unit/profile-schema-equivalence.test.ts',
  'test/unit/profile-trust-swap.test.ts',
  'test/unit/quarantine-locked.test.ts',
  'test/unit/protect-scan-cache.test.ts',
  'test/unit/shell-parser-lazy.test.ts',
  'test/unit/shell-parser.test.ts',
  'test/unit/shell-policy.test.ts',
  'test/unit/tiering-large-tree.test.ts',
];

/** What in a test file changes its worker for the files after it: a module mocked, the environment, the working directory, the clock. */
export const CHANGES_THE_WORKER = /vi\.(mock|doMock|stubEnv|stubGlobal|useFakeTimers|spyOn|resetModules)\(|process\.chdir\(|process\.env(\[[^\]]+\]|\.[A-Za-z_]+) = |delete process\.env|setSystemTime\(|process\.umask\(/;
