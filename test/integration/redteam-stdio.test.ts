/**
 * Red team: what a sandboxed command reaches of the host through the
 * descriptors it is started with. Judged by the effect on the host: a file
 * outside the sandbox read through a descriptor.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolate, plant, projectSite } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: stdio'))('red team: stdio ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rts-', backendEnv));
  });
  afterEach(() => cleanup());

  const run = (args: string[], script: string, options: { cwd?: string; fds?: Record<number, number> } = {}) =>
    isolate(runner, ['run', '--backend', backend, ...args, '--', 'sh', '-c', script], { cwd: options.cwd ?? project, env, ...(options.fds ? { fds: options.fds } : {}) });

  it('a stdin that is a directory outside the sandbox does not open the host file system to the command', () => {
    const secret = plant(runner, dir, 'outside/secret.txt', 'RT-SECRET-OUTSIDE\n');
    chmodSync(join(dir, 'outside'), 0o755);
    const fd = openSync(join(dir, 'outside'), 'r');
    try {
      const r = run([], 'cat /proc/self/fd/0/secret.txt 2>&1; true', { fds: { 0: fd } });
      expect(r.stdout, `${secret} read through stdin`).not.toContain('RT-SECRET-OUTSIDE');
    } finally {
      closeSync(fd);
    }
  });
});
