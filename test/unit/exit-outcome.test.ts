/**
 * run/resolve/: the exit code of a run from how the launcher ended (pure).
 * The command's own status, 128+N for a signal (decoded in one place), 124
 * for the timeout, 125 when the sandbox was not set up.
 */
import { describe, expect, it } from 'vitest';
import { IsolateError } from '../../src/errors.js';
import { exitOutcome, type ExitRules, type RunState } from '../../src/run/resolve/exit.js';
import { limitOfSignal, signalOfStatus, statusOfSignal } from '../../src/run/resolve/signal.js';
import { parseStatusLine } from '../../src/run/handshake/status.js';

const state = (over: Partial<RunState> = {}): RunState => ({ started: true, timedOut: false, forwarded: 0, ...over });
const bwrap: ExitRules = { file: '/usr/bin/bwrap', backend: 'bwrap', plainExit: false, readyByte: false };
const nsjail: ExitRules = { file: '/usr/bin/nsjail', backend: 'nsjail', plainExit: true, readyByte: false };
const sbx: ExitRules = { file: '/usr/bin/sandbox-exec', backend: 'sandbox-exec', plainExit: true, readyByte: true };
const exited = (exitCode: number) => ({ exitCode, signal: null });
const killed = (signal: NodeJS.Signals) => ({ exitCode: null, signal });

describe('128+N', () => {
  it('decodes a status above 128 to its signal, and nothing else', () => {
    expect(signalOfStatus(143)).toBe('SIGTERM');
    expect(signalOfStatus(137)).toBe('SIGKILL');
    expect(signalOfStatus(128)).toBeNull();
    expect(signalOfStatus(1)).toBeNull();
    expect(signalOfStatus(255)).toBeNull();
    expect(statusOfSignal('SIGINT')).toBe(130);
    expect(limitOfSignal('SIGXCPU')).toEqual({ limit: 'cpu' });
    expect(limitOfSignal('SIGXFSZ')).toEqual({ limit: 'fileSize' });
    expect(limitOfSignal('SIGTERM')).toEqual({});
  });
});

describe('exitOutcome', () => {
  it('bwrap: the status it reports is the command\'s, with its signal and limit', () => {
    expect(exitOutcome(exited(0), state({ reportedExit: 7 }), bwrap)).toEqual({ exitCode: 7, signal: null });
    expect(exitOutcome(exited(1), state({ reportedExit: 152 }), bwrap)).toEqual({ exitCode: 152, signal: 'SIGXCPU', limit: 'cpu' });
  });

  it('without a status descriptor the launcher\'s status is the command\'s once it started, or once a signal was passed on', () => {
    expect(exitOutcome(exited(255), state(), nsjail)).toEqual({ exitCode: 255, signal: null });
    expect(exitOutcome(exited(143), state(), nsjail)).toEqual({ exitCode: 143, signal: 'SIGTERM' });
    expect(exitOutcome(exited(130), state({ started: false, forwarded: 1 }), nsjail)).toEqual({ exitCode: 130, signal: 'SIGINT' });
  });

  it('not started: the launcher\'s own status is a setup failure (125), with its last words', () => {
    const r = exitOutcome(exited(255), state({ started: false }), { ...nsjail, stderrTail: '[E] no' });
    expect(r).toMatchObject({ exitCode: 125, signal: null });
    expect(r.error?.code).toBe('E_SANDBOX_SETUP');
    expect(r.error?.message).toBe('nsjail could not set up the sandbox (exit 255); the command was not run');
    expect(r.error?.detail).toBe('[E] no');
  });

  it('the timeout is 124, with the signal the command died of', () => {
    expect(exitOutcome(exited(143), state({ timedOut: true }), nsjail)).toEqual({ exitCode: 124, signal: 'SIGTERM', timedOut: true, limit: 'timeout' });
    expect(exitOutcome(killed('SIGKILL'), state({ timedOut: true }), bwrap)).toMatchObject({ exitCode: 124, signal: 'SIGKILL' });
  });

  it('a launcher killed by a signal: 128+N; before the ready byte it never ran the command (125)', () => {
    expect(exitOutcome(killed('SIGTERM'), state({ started: false, forwarded: 1 }), bwrap)).toEqual({ exitCode: 143, signal: 'SIGTERM' });
    const r = exitOutcome(killed('SIGABRT'), state({ started: false }), sbx);
    expect(r).toMatchObject({ exitCode: 125, signal: null });
    expect(r.error?.message).toContain('killed by SIGABRT');
  });

  it('a setup error found on the way wins; a launcher that never ran is E_BACKEND_MISSING', () => {
    const setupError = new IsolateError('E_SANDBOX_SETUP', 'mounts differ');
    expect(exitOutcome(exited(0), state({ setupError }), nsjail)).toEqual({ exitCode: 125, signal: null, error: setupError });
    const r = exitOutcome({ exitCode: null, signal: null, spawnError: new Error('spawn /x ENOENT') }, state({ started: false }), bwrap);
    expect(r.error?.code).toBe('E_BACKEND_MISSING');
    expect(r.error?.message).toBe('cannot start /usr/bin/bwrap: spawn /x ENOENT');
  });
});

describe('bwrap\'s status lines', () => {
  it('reads child-pid, pid-namespace and exit-code; anything else is no status line', () => {
    expect(parseStatusLine('{"child-pid": 12, "pid-namespace": 4026532, "mnt-namespace": 1}')).toEqual({ childPid: 12, pidNamespace: 4026532 });
    expect(parseStatusLine('{"exit-code": 3}')).toEqual({ exitCode: 3 });
    expect(parseStatusLine('{"child-pid": "12"}')).toEqual({});
    expect(parseStatusLine('5')).toBeUndefined();
    expect(parseStatusLine('not json')).toBeUndefined();
  });
});
