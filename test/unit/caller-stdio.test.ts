/**
 * The caller's stdin, stdout and stderr as the command would inherit them:
 * a directory is refused (it opens the host's file system through
 * /proc/self/fd/N); a file, block device, socket or terminal, whoever owns
 * it, and a pipe on stdin are relayed through a pipe; /dev/null and pipes on
 * stdout and stderr are handed over.
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
  const ttyLike = { ...statSync('/dev/null'), isCharacterDevice: () => true, isFile: () => false, isBlockDevice: () => false, isFIFO: () => false, isSocket: () => false, isDirectory: () => false } as Stats;
  const fifoLike = { ...statSync('/dev/null'), isCharacterDevice: () => false, isFile: () => false, isBlockDevice: () => false, isFIFO: () => true, isSocket: () => false, isDirectory: () => false } as Stats;
  const socketLike = { ...statSync('/dev/null'), isCharacterDevice: () => false, isFile: () => false, isBlockDevice: () => false, isFIFO: () => false, isSocket: () => true, isDirectory: () => false } as Stats;
  stats = { dir: statSync(dir), file: statSync(join(dir, 'file')), other: statSync(join(dir, 'other')), null: statSync('/dev/null'), tty: ttyLike, fifo: fifoLike, socket: socketLike };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** fstat as if descriptors 0-2 were these (undefined: closed), with `terminals` the descriptors that are terminals. */
const as = (kinds: (string | undefined)[], terminals: number[] = []) => ({ stat: (fd: number): Stats | undefined => (kinds[fd] === undefined ? undefined : stats[kinds[fd]]), isTerminal: (fd: number) => terminals.includes(fd) });
const NONE = { relayStdin: false, relayOutput: [], mergedOutput: false, terminals: [] };

describe('checkCallerStdio', () => {
  it('only the descriptors the command inherits count: all three with stdio inherit, stdin with input inherit, none when captured', () => {
    expect(inheritedStdio({ stdio: 'inherit' })).toEqual([0, 1, 2]);
    expect(inheritedStdio({ stdio: 'capture', input: 'inherit' })).toEqual([0]);
    expect(inheritedStdio({ stdio: 'capture' })).toEqual([]);
    expect(checkCallerStdio({ stdio: 'capture' }, as(['dir', 'dir', 'dir']))).toEqual(NONE);
  });

  it('refuses a directory on stdin, stdout or stderr (125, E_STDIO, with a fix)', () => {
    for (const [kinds, name] of [[['dir', 'null', 'null'], 'stdin'], [['null', 'dir', 'null'], 'stdout'], [['null', 'null', 'dir'], 'stderr']] as const) {
      const e = expectIsolateError(() => checkCallerStdio({ stdio: 'inherit' }, as([...kinds])), 'E_STDIO');
      expect(e.exitCode).toBe(125);
      expect(e.message).toMatch(new RegExp(`^${name} is a directory`));
      expect(e.message).toContain('the command was not run');
      expect(e.fix).toContain('/dev/null');
    }
    expectIsolateError(() => checkCallerStdio({ stdio: 'capture', input: 'inherit' }, as(['dir'])), 'E_STDIO');
  });

  it('hands over /dev/null and closed descriptors as they are: opened again, they give the command nothing more', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['null', 'null', 'null']))).toEqual(NONE);
    expect(checkCallerStdio({ stdio: 'inherit' }, as([undefined, undefined, undefined]))).toEqual(NONE);
  });

  it('relays a socket on any of them: it goes both ways, to a service no network namespace takes from the command', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['socket', 'socket', 'null']))).toEqual({ ...NONE, relayStdin: true, relayOutput: [1] });
  });

  it('relays a file or a pipe on stdin, whoever owns it: opened again for writing, it would take what the command writes', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['file', 'null', 'null']))).toEqual({ ...NONE, relayStdin: true });
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['fifo', 'null', 'null']))).toEqual({ ...NONE, relayStdin: true });
    expect(checkCallerStdio({ stdio: 'capture', input: 'inherit' }, as(['fifo']))).toEqual({ ...NONE, relayStdin: true });
  });

  it('relays files on stdout and stderr, whoever owns them, and hands a pipe over (a command ends on its SIGPIPE); one channel when both are the same file', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['null', 'file', undefined]))).toEqual({ ...NONE, relayOutput: [1] });
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['null', 'file', 'file']))).toEqual({ ...NONE, relayOutput: [1, 2], mergedOutput: true });
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['file', undefined, 'other']))).toEqual({ ...NONE, relayStdin: true, relayOutput: [2] });
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['null', 'fifo', 'file']))).toEqual({ ...NONE, relayOutput: [2] });
  });

  it('relays terminals, whoever owns them (sudo keeps the user\'s), their outputs through the escape filter; a character device that is no terminal is handed over', () => {
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['tty', 'tty', 'tty'], [0, 1, 2]))).toEqual({ relayStdin: true, relayOutput: [1, 2], mergedOutput: true, terminals: [1, 2] });
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['tty', 'tty', 'null'], [0, 1]))).toEqual({ relayStdin: true, relayOutput: [1], mergedOutput: false, terminals: [1] });
    expect(checkCallerStdio({ stdio: 'inherit' }, as(['tty', 'tty', 'tty']))).toEqual(NONE);
    expect(checkCallerStdio({ stdio: 'capture', input: 'inherit' }, as(['tty', 'tty', 'tty'], [0, 1, 2]))).toEqual({ ...NONE, relayStdin: true });
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
