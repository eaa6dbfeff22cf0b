import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { IsolateError } from '../../src/errors.js';
import { awaitStarted } from '../../src/run/handshake/started.js';
import type { RunState } from '../../src/run/resolve/exit.js';

function started(state: RunState, problem?: IsolateError): { written: string; checked: boolean } {
  const socket = new PassThrough();
  let written = '';
  let checked = false;
  socket.write = ((chunk: string) => ((written += chunk), true)) as typeof socket.write;
  awaitStarted(socket, state, () => ((checked = true), problem));
  socket.emit('data', Buffer.from('s'));
  return { written, checked };
}

describe('the started handshake', () => {
  it('answers go after a passing check, and the command has started', () => {
    const state: RunState = { started: false, timedOut: false, forwarded: 0 };
    expect(started(state)).toEqual({ written: 'go\n', checked: true });
    expect(state.started).toBe(true);
  });

  it('gives no go to a sandbox that fails its check, and records why', () => {
    const state: RunState = { started: false, timedOut: false, forwarded: 0 };
    const problem = new IsolateError('E_SANDBOX_SETUP', 'the init is outside the run\'s cgroup');
    expect(started(state, problem).written).toBe('');
    expect(state.setupError).toBe(problem);
    expect(state.started).toBe(false);
  });

  it('gives no go once the timeout has ended the run, and the check of a dying sandbox does not turn 124 into 125', () => {
    const state: RunState = { started: false, timedOut: true, forwarded: 0 };
    const r = started(state, new IsolateError('E_SANDBOX_SETUP', 'pids.current unreadable'));
    expect(r).toEqual({ written: '', checked: false });
    expect(state.setupError).toBeUndefined();
    expect(state.started).toBe(false);
  });
});
