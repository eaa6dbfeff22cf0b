/**
 * The shell script that starts the forwarder inside a filtered sandbox, run
 * by /bin/sh with a stand-in for socat: the command starts as soon as the
 * forwarder says it listens (without waiting for it to exit), never when it
 * fails, gets its arguments as given, and inherits nothing from the script
 * (no ignored SIGPIPE, its own stderr).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwarderScript } from '../../src/backends/forwarder.js';

let dir: string;
const LISTENING = '2026/01/01 00:00:00 socat[7] N listening on AF=2 127.0.0.1:3128';

/** A stand-in for socat: writes `lines` to stderr, then stays (recording its pid) or exits with `exit`. */
function fakeSocat(name: string, lines: string[], then: { stay: true } | { exit: number }): string {
  const path = join(dir, name);
  // The pid file comes first: the script starts the command as soon as "listening" is printed, and the test stops the stand-in by it.
  const start = 'stay' in then ? `echo $$ > '${path}.pid'` : '';
  const body = lines.map((l) => `printf '%s\\n' '${l}' >&2`).join('\n');
  const end = 'stay' in then ? 'exec sleep 30' : `exit ${then.exit}`;
  writeFileSync(path, `#!/bin/sh\n${start}\n${body}\n${end}\n`);
  chmodSync(path, 0o755);
  return path;
}

function run(socat: string, command: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t = Date.now();
  const r = spawnSync('/bin/sh', ['-c', forwarderScript(socat), 'isolate-net', ...command], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
}

function stopFake(path: string): void {
  const pidFile = `${path}.pid`;
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
  } catch {
    // already gone
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-forwarder-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('forwarderScript', () => {
  it('runs the command once the forwarder listens, without waiting for the forwarder to end', () => {
    const socat = fakeSocat('listens', [LISTENING], { stay: true });
    try {
      const r = run(socat, ['sh', '-c', 'echo ran']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('ran\n');
      expect(r.stderr).toBe('');
      expect(r.ms, 'the stand-in sleeps 30 s after listening').toBeLessThan(5000);
      expect(existsSync(`${socat}.pid`), 'the forwarder was started').toBe(true);
    } finally {
      stopFake(socat);
    }
  });

  it('skips other notices before the listening one', () => {
    const socat = fakeSocat('noisy', ['2026/01/01 00:00:00 socat[7] W ioctl(5, TIOCGWINSZ): nothing', '2026/01/01 00:00:00 socat[7] N something else', LISTENING], { stay: true });
    try {
      const r = run(socat, ['sh', '-c', 'echo ran']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('ran\n');
    } finally {
      stopFake(socat);
    }
  });

  it('a forwarder that fails: exit 125, its last message shown, the command not run', () => {
    const socat = fakeSocat('fails', ['2026/01/01 00:00:00 socat[7] E bind(5, {AF=2 127.0.0.1:3128}, 16): Address already in use'], { exit: 1 });
    const marker = join(dir, 'ran');
    const r = run(socat, ['touch', marker]);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('isolate: the network forwarder (socat) did not start');
    expect(r.stderr).toContain('Address already in use');
    expect(existsSync(marker)).toBe(false);
  });

  it('a forwarder that cannot be executed: exit 125, the command not run', () => {
    const marker = join(dir, 'ran-missing');
    const r = run(join(dir, 'no-such-socat'), ['touch', marker]);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('did not start');
    expect(existsSync(marker)).toBe(false);
  });

  it('a forwarder that exits quietly before listening: exit 125', () => {
    const socat = fakeSocat('quiet', [], { exit: 0 });
    const r = run(socat, ['sh', '-c', 'echo ran']);
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
  });

  it('the command gets its arguments as given, and its own stderr and signal dispositions', () => {
    const socat = fakeSocat('args', [LISTENING], { stay: true });
    try {
      const args = ['a b', '$HOME', "it's", ';x', '*', ''];
      const r = run(socat, ['sh', '-c', 'printf "%s|" "$@"; echo; grep "^SigIgn" /proc/self/status; echo to-stderr >&2', 'sh', ...args]);
      expect(r.status).toBe(0);
      const [printed, sigIgn] = r.stdout.split('\n');
      expect(printed).toBe(`${args.join('|')}|`);
      // SIGPIPE (13) is ignored in the script's subshell for the forwarder only: the command's set is what sh alone gives it.
      const control = spawnSync('/bin/sh', ['-c', 'grep "^SigIgn" /proc/self/status'], { encoding: 'utf8' }).stdout.trim();
      expect(sigIgn).toBe(control);
      expect(r.stderr).toBe('to-stderr\n');
    } finally {
      stopFake(socat);
    }
  });
});
