/**
 * The terminal helper's `--leader` mode, which sandbox-exec uses (there is
 * no Seatbelt here: the helper runs unsandboxed, as the launcher would exec
 * it, leading a new session). What is checked is what isolate relies on
 * to reach the command without a PID namespace: the command gets the
 * pseudo-terminal as its controlling terminal but stays in the helper's
 * session and process group, so a signal to that group reaches it; a
 * process that made itself the terminal's foreground group in a group of
 * its own still gets the helper's terminating signals; and a helper that
 * does not lead its session starts the command in a new one, as before.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TERMINAL_HELPER } from '../../src/backends/terminal-helper.js';

const PYTHON = '/usr/bin/python3';
const skip = existsSync(PYTHON) ? undefined : `${PYTHON} is not installed`;
if (skip !== undefined) console.warn(`skipping the terminal helper's leader mode: ${skip}`);

interface Helper {
  pid: number;
  output: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The helper on `command`, its control descriptor on fd 3 (one window size written), in a new session when `detached`. */
function startHelper(command: string[], leader: boolean, detached = true): Helper {
  const args = ['-I', '-S', '-B', '-c', TERMINAL_HELPER, ...(leader ? ['--leader'] : []), '3', ...command];
  const child = spawn(PYTHON, args, { detached, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const control = child.stdio[3] as NodeJS.WritableStream;
  control.write('24 80\n');
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  if (child.pid === undefined) throw new Error('the helper did not start');
  return { pid: child.pid, output: () => out, done };
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** The group of a helper that is still running is killed whatever a test found. */
function cleanup(h: Helper): void {
  try {
    process.kill(-h.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

describe.skipIf(skip !== undefined)('terminal helper, --leader (sandbox-exec)', () => {
  it('the command has the terminal and stays in the helper\'s session and process group', async () => {
    const h = startHelper(['/bin/sh', '-c', 'tty; test -t 0 && echo ON-A-TTY; echo "ids $(ps -o pgid= -o sid= -p $$)"; stty size'], true);
    try {
      const end = await h.done;
      expect(end.code, h.output()).toBe(0);
      expect(h.output()).toMatch(/^\/dev\/pts\/\d+\r?$/m);
      expect(h.output()).toContain('ON-A-TTY');
      const ids = /ids\s+(\d+)\s+(\d+)/.exec(h.output());
      expect(ids?.slice(1).map(Number)).toEqual([h.pid, h.pid]);
      expect(h.output()).toMatch(/^24 80\r?$/m);
    } finally {
      cleanup(h);
    }
  });

  it('a signal to the helper\'s group reaches the command: 128+N', async () => {
    const h = startHelper(['/bin/sh', '-c', 'echo started; exec sleep 30'], true);
    try {
      await waitFor(() => h.output().includes('started'));
      process.kill(-h.pid, 'SIGTERM');
      const end = await Promise.race([h.done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
      expect(end).toEqual({ code: 143, signal: null });
    } finally {
      cleanup(h);
    }
  });

  it('a job the command moved to a group of its own, in the foreground, gets the helper\'s terminating signals', async () => {
    // What a job-control shell does with a job: its own process group, made the terminal's foreground group.
    const job = 'import os, signal, time\nsignal.signal(signal.SIGTTOU, signal.SIG_IGN)\nos.setpgid(0, 0)\nos.tcsetpgrp(0, os.getpgrp())\nprint("moved", os.getpgrp(), flush=True)\ntime.sleep(30)\n';
    const h = startHelper([PYTHON, '-c', job], true);
    try {
      await waitFor(() => /moved \d+/.test(h.output()));
      const group = Number(/moved (\d+)/.exec(h.output())?.[1]);
      expect(group).not.toBe(h.pid);
      process.kill(-h.pid, 'SIGTERM');
      const end = await Promise.race([h.done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
      expect(end).toEqual({ code: 143, signal: null });
    } finally {
      cleanup(h);
    }
  });

  it('a helper that does not lead its session starts the command in a new one, as without --leader', async () => {
    const h = startHelper(['/bin/sh', '-c', 'tty; echo "sid $(ps -o sid= -p $$)"'], true, false);
    try {
      const end = await h.done;
      expect(end.code, h.output()).toBe(0);
      expect(h.output()).toMatch(/^\/dev\/pts\/\d+\r?$/m);
      const sid = Number(/sid\s+(\d+)/.exec(h.output())?.[1]);
      expect(sid).not.toBe(h.pid);
      expect(sid).not.toBe(process.pid);
    } finally {
      if (h.pid !== undefined) await Promise.race([h.done, new Promise((r) => setTimeout(r, 1000))]);
    }
  });
});
