/**
 * The caller's stdin, stdout and stderr as the command would inherit them:
 * a directory is refused (it opens the host's file system through
 * /proc/self/fd/N), a file on stdin is relayed through a pipe.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCallerStdio, inheritedStdio } from '../../src/run/launch/caller-stdio.js';
import { launcherStdio } from '../../src/run/launch/stdio.js';
import type { Plan } from '../../src/backends/types.js';
import { expectIsolateError } from './expect-error.js';

let dir: string;
let stats: Record<string, Stats>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-unit-stdio-'));
  writeFileSync(join(dir, 'file'), 'data');
  stats = { dir: statSync(dir), file: statSync(join(dir, 'file')), null: statSync('/dev/null') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** fstat as if descriptors 0-2 were these (undefined: closed). */
const as = (...kinds: (string | undefined)[]) => (fd: number): Stats | undefined => (kinds[fd] === undefined ? undefined : stats[kinds[fd]]);

describe('checkCallerStdio', () => {
  it('only the descriptors the command inherits count: all three with stdio inherit, stdin with input inherit, none when captured', () => {
    expect(inheritedStdio({ stdio: 'inherit' })).toEqual([0, 1, 2]);
    expect(inheritedStdio({ stdio: 'capture', input: 'inherit' })).toEqual([0]);
    expect(inheritedStdio({ stdio: 'capture' })).toEqual([]);
    expect(checkCallerStdio({ stdio: 'capture' }, as('dir', 'dir', 'dir'))).toEqual({ relayStdin: false });
  });

  it('refuses a directory on stdin, stdout or stderr (125, E_STDIO, with a fix)', () => {
    for (const [kinds, name] of [[['dir', 'null', 'null'], 'stdin'], [['null', 'dir', 'null'], 'stdout'], [['null', 'null', 'dir'], 'stderr']] as const) {
      const e = expectIsolateError(() => checkCallerStdio({ stdio: 'inherit' }, as(...kinds)), 'E_STDIO');
      expect(e.exitCode).toBe(125);
      expect(e.message).toMatch(new RegExp(`^${name} is a directory`));
      expect(e.message).toContain('the command was not run');
      expect(e.fix).toContain('/dev/null');
    }
    expectIsolateError(() => checkCallerStdio({ stdio: 'capture', input: 'inherit' }, as('dir')), 'E_STDIO');
  });

  it('relays a regular file on stdin; hands over /dev/null, closed descriptors and files on stdout/stderr', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, as('file', 'file', 'file'))).toEqual({ relayStdin: true });
    expect(checkCallerStdio({ stdio: 'inherit' }, as('null', 'file', 'file'))).toEqual({ relayStdin: false });
    expect(checkCallerStdio({ stdio: 'inherit' }, as(undefined, undefined, undefined))).toEqual({ relayStdin: false });
  });
});

describe('launcherStdio with a relayed stdin', () => {
  const plan = { fds: {}, inputs: [] } as unknown as Plan;
  it('puts a pipe on stdin instead of the caller\'s descriptor', () => {
    expect(launcherStdio(plan, { stdio: 'inherit' }, new Map(), true).slice(0, 3)).toEqual(['pipe', 'inherit', 'inherit']);
    expect(launcherStdio(plan, { stdio: 'inherit' }, new Map()).slice(0, 3)).toEqual(['inherit', 'inherit', 'inherit']);
    expect(launcherStdio(plan, { stdio: 'capture', input: 'inherit' }, new Map(), true).slice(0, 3)).toEqual(['pipe', 'pipe', 'pipe']);
  });
});
