/**
 * Run the real isolate CLI as the current user and, when the tests run as
 * root, also as an unprivileged user. Every sandbox test loops over `runners()`.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface Runner {
  label: string;
  uid: number;
  gid: number;
  /** Path of bin/isolate.js this runner can execute. */
  bin: string;
  /** Prefix that switches to this runner's user (empty for the current user). */
  prefix: string[];
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runners(): Runner[] {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const self: Runner = { label: uid === 0 ? 'as root' : `as uid ${uid}`, uid, gid, bin: join(REPO, 'bin', 'isolate.js'), prefix: [] };
  const u = inject('unprivileged');
  if (u === null) return [self];
  return [
    self,
    {
      label: `as unprivileged ${u.user}`,
      uid: u.uid,
      gid: u.gid,
      bin: join(u.packageDir, 'bin', 'isolate.js'),
      prefix: ['setpriv', `--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--'],
    },
  ];
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** Run `isolate <args>` as the runner, with exactly `env` (plus PATH if not given). */
export function isolate(runner: Runner, args: readonly string[], options: RunOptions): Result {
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', ...(options.env ?? {}) };
  const [file, ...rest] = [...runner.prefix, process.execPath, runner.bin, ...args];
  const r = spawnSync(file as string, rest, {
    cwd: options.cwd,
    env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 20_000,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A temp directory owned by the runner's user; remove it with the returned function. */
export function tempDirFor(runner: Runner, prefix = 'isolate-it-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, runner.uid, runner.gid);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** chown -R a tree to the runner after a test wrote files into it as root. */
export function giveTo(runner: Runner, path: string): void {
  spawnSync('chown', ['-R', `${runner.uid}:${runner.gid}`, path]);
}
