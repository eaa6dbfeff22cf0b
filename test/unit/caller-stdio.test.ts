/**
 * The caller's stdin, stdout and stderr as the command would inherit them:
 * a directory is refused (it opens the host's file system through
 * /proc/self/fd/N), a file on stdin is relayed through a pipe.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { Socket } from 'node:net';
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
  writeFileSync(join(dir, 'other'), 'data');
  const ttyLike = { ...statSync('/dev/null'), uid: process.geteuid?.() ?? 0, isCharacterDevice: () => true, isFile: () => false, isBlockDevice: () => false, isDirectory: () => false } as Stats;
  stats = { dir: statSync(dir), file: statSync(join(dir, 'file')), other: statSync(join(dir, 'other')), null: statSync('/dev/null'), tty: ttyLike };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** fstat as if descriptors 0-2 were these (undefined: closed), for a caller who owns none of them. */
const as = (...kinds: (string | undefined)[]) => ({ stat: (fd: number): Stats | undefined => (kinds[fd] === undefined ? undefined : stats[kinds[fd]]), uid: -1, isTerminal: () => false });
/** The same, for the caller who owns them (this test's user), with `terminals` the descriptors that are terminals. */
const owned = (kinds: (string | undefined)[], terminals: number[] = []) => ({ ...as(...kinds), uid: process.geteuid?.(), isTerminal: (fd: number) => terminals.includes(fd) });
const NONE = { relayStdin: false, relayOutput: [], mergedOutput: false, terminals: [] };

describe('checkCallerStdio', () => {
  it('only the descriptors the command inherits count: all three with stdio inherit, stdin with input inherit, none when captured', () => {
    expect(inheritedStdio({ stdio: 'inherit' })).toEqual([0, 1, 2]);
    expect(inheritedStdio({ stdio: 'capture', input: 'inherit' })).toEqual([0]);
    expect(inheritedStdio({ stdio: 'capture' })).toEqual([]);
    expect(checkCallerStdio({ stdio: 'capture' }, as('dir', 'dir', 'dir'))).toEqual(NONE);
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

  it('relays a regular file on stdin; hands over /dev/null, closed descriptors and files of others on stdout/stderr', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, as('file', 'file', 'file'))).toEqual({ ...NONE, relayStdin: true });
    expect(checkCallerStdio({ stdio: 'inherit' }, as('null', 'file', 'file'))).toEqual(NONE);
    expect(checkCallerStdio({ stdio: 'inherit' }, as(undefined, undefined, undefined))).toEqual(NONE);
  });

  if (process.geteuid === undefined) console.warn('the ownership cases of checkCallerStdio are skipped: this platform has no user ids (process.geteuid), so no descriptor of the caller\'s can be told as its own');
  it.skipIf(process.geteuid === undefined)('relays the caller\'s own files and terminals, whose mode the command could change; one channel when stdout and stderr are the same file', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, owned(['null', 'file', undefined]))).toEqual({ ...NONE, relayOutput: [1] });
    expect(checkCallerStdio({ stdio: 'inherit' }, owned(['null', 'file', 'file']))).toEqual({ ...NONE, relayOutput: [1, 2], mergedOutput: true });
    expect(checkCallerStdio({ stdio: 'inherit' }, owned(['file', undefined, 'other']))).toEqual({ ...NONE, relayStdin: true, relayOutput: [2] });
    // A character device of the caller's that is a terminal; one that is not is no file of the caller's to relay.
    expect(checkCallerStdio({ stdio: 'inherit' }, owned(['tty', 'tty', 'tty'], [0, 1, 2]))).toEqual({ relayStdin: true, relayOutput: [1, 2], mergedOutput: true, terminals: [1, 2] });
    expect(checkCallerStdio({ stdio: 'inherit' }, owned(['tty', 'tty', 'tty']))).toEqual(NONE);
    expect(checkCallerStdio({ stdio: 'capture', input: 'inherit' }, owned(['tty', 'tty', 'tty'], [0, 1, 2]))).toEqual({ ...NONE, relayStdin: true });
  });

  it("relays a terminal the caller does not own too (sudo keeps the user's), its outputs through the escape filter", () => {
    const others = { ...as('tty', 'tty', 'null'), isTerminal: (fd: number) => fd < 2 };
    expect(checkCallerStdio({ stdio: 'inherit' }, others)).toEqual({ relayStdin: true, relayOutput: [1], mergedOutput: false, terminals: [1] });
  });
});

describe('launcherStdio with relayed descriptors', () => {
  const plan = { fds: {}, inputs: [] } as unknown as Plan;
  it('puts a pipe on stdin instead of the caller\'s descriptor', () => {
    expect(launcherStdio(plan, { stdio: 'inherit' }, new Map(), { stdin: true, outputs: [] }).slice(0, 3)).toEqual(['pipe', 'inherit', 'inherit']);
    expect(launcherStdio(plan, { stdio: 'inherit' }, new Map()).slice(0, 3)).toEqual(['inherit', 'inherit', 'inherit']);
    expect(launcherStdio(plan, { stdio: 'capture', input: 'inherit' }, new Map(), { stdin: true, outputs: [] }).slice(0, 3)).toEqual(['pipe', 'pipe', 'pipe']);
  });

  it('puts a pipe on each relayed output, or the one shared socket on both', () => {
    expect(launcherStdio(plan, { stdio: 'inherit' }, new Map(), { stdin: false, outputs: [2] }).slice(0, 3)).toEqual(['inherit', 'inherit', 'pipe']);
    const shared = new Socket();
    expect(launcherStdio(plan, { stdio: 'inherit' }, new Map(), { stdin: false, outputs: [1, 2], shared }).slice(0, 3)).toEqual(['inherit', shared, shared]);
    expect(launcherStdio(plan, { stdio: 'capture' }, new Map(), { stdin: false, outputs: [1, 2], shared }).slice(0, 3)).toEqual(['ignore', 'pipe', 'pipe']);
  });
});
