/**
 * Red team: the caller's own files on the command's stdio. A descriptor
 * carries its inode: whoever owns the inode may chmod or re-time it through
 * the descriptor (fchmod, /proc/self/fd/1), with no capability. The
 * sandbox's user is the caller (root, or the ordinary user mapped into its
 * namespace), so it owns the file a `> out.log` names and the terminal the
 * caller types in. Judged on the host: the file's and the terminal's mode
 * and times after the run, and the output still where it was asked to go.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, giveTo, isolate, isolateArgv, plant, projectSite } from '../helpers/isolate.js';
import { haveDriver, onTerminal } from '../helpers/pty.js';
import { smallTmpfs, tmpfsUnavailable } from '../helpers/tmpfs.js';

/** 2001-01-01, the time the attacks set: nothing the run itself writes. */
const OLD_TIME = 978307200;
const ATTACK = (fd: number): string => `chmod 0666 /proc/self/fd/${fd}; touch -d @${OLD_TIME} /proc/self/fd/${fd}`;

const driver = haveDriver();
if (!driver) console.warn('the terminal case of the stdio-owner red team is skipped: it needs python3 (with its pty module) to make a terminal');

describe.each(backendCases('red team: stdio owner'))('red team: the caller\'s own files on stdio ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rtso-', backendEnv));
  });
  afterEach(() => cleanup());

  const run = (script: string, fds: Record<number, number>) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env, fds });

  /** Mode and modification time of `path` on the host. */
  const facts = (path: string): { mode: number; mtime: number } => {
    const st = statSync(path);
    return { mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
  };

  it('stdout and stderr files: the command writes them but cannot chmod or re-time them', () => {
    const out = plant(runner, dir, 'outside/out.log', '', 0o600);
    const err = plant(runner, dir, 'outside/err.log', '', 0o640);
    const o = openSync(out, 'a');
    const e = openSync(err, 'a');
    let r;
    try {
      r = run(`echo to-out; echo to-err >&2; ${ATTACK(1)}; ${ATTACK(2)}; true`, { 1: o, 2: e });
    } finally {
      closeSync(o);
      closeSync(e);
    }
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('to-out\n');
    expect(readFileSync(err, 'utf8')).toContain('to-err\n');
    expect(facts(out).mode).toBe(0o600);
    expect(facts(err).mode).toBe(0o640);
    expect(facts(out).mtime).toBeGreaterThan(OLD_TIME);
    expect(facts(err).mtime).toBeGreaterThan(OLD_TIME);
  });

  it('stdout and stderr on one file (> log 2>&1): unchanged, and the lines in the order written', () => {
    const log = plant(runner, dir, 'outside/both.log', '', 0o644);
    const fd = openSync(log, 'a');
    let r;
    try {
      r = run(`for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; ${ATTACK(1)}; ${ATTACK(2)}; echo end`, { 1: fd, 2: fd });
    } finally {
      closeSync(fd);
    }
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(log, 'utf8');
    if (backend === 'oci') {
      // runc copies the container's stdout and stderr from two pipes of its own: each stream keeps its order, not their interleaving.
      expect(lines.split('\n').filter((l) => l.startsWith('out') || l === 'end')).toEqual(['out1', 'out2', 'out3', 'out4', 'out5', 'end']);
      expect(lines.split('\n').filter((l) => l.startsWith('err'))).toEqual(['err1', 'err2', 'err3', 'err4', 'err5']);
    } else expect(lines).toBe('out1\nerr1\nout2\nerr2\nout3\nerr3\nout4\nerr4\nout5\nerr5\nend\n');
    expect(facts(log)).toEqual({ mode: 0o644, mtime: expect.any(Number) as number });
    expect(facts(log).mtime).toBeGreaterThan(OLD_TIME);
  });

  it('stdout on a full disk: the run fails (125, E_IO), not a success with its output silently lost', (ctx) => {
    const why = tmpfsUnavailable();
    if (why !== undefined) {
      console.warn(`the full-disk case of the stdio relay is skipped: ${why}`);
      ctx.skip();
    }
    const disk = smallTmpfs(64, runner);
    try {
      // The runner's own file, as a `> out.bin` of the runner's makes it.
      const out = join(disk.dir, 'out.bin');
      writeFileSync(out, '');
      chownSync(out, runner.uid, runner.gid);
      const fd = openSync(out, 'w');
      let r;
      try {
        r = run('head -c 400000 /dev/zero', { 1: fd });
      } finally {
        closeSync(fd);
      }
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(/cannot write the command's stdout: ENOSPC/);
    } finally {
      disk.unmount();
    }
  });

  it('a block device of the caller\'s on stdout (> /dev/sdb, as root): the command cannot chmod the node', (ctx) => {
    // As root, a second node of loop0 in the test's directory stands for a disk.
    if (runner.uid !== 0) {
      console.warn(`the block device case is not tried ${runner.label}: an ordinary user owns no block device`);
      ctx.skip();
    }
    const node = join(dir, 'blk');
    const made = spawnSync('mknod', ['-m', '0600', node, 'b', '7', '0']);
    if (made.status !== 0) {
      console.warn(`the block device case is skipped: mknod of a loop device node failed here (${made.stderr.toString().trim()})`);
      ctx.skip();
    }
    const fd = openSync(node, 'w');
    let r;
    try {
      r = run(`${ATTACK(1)}; true`, { 1: fd });
    } finally {
      closeSync(fd);
    }
    expect(r.status, r.stderr).toBe(0);
    expect(facts(node).mode).toBe(0o600);
  });

  it.skipIf(!driver)('the caller\'s terminal (--no-tty): output reaches it, and its mode and times stay', () => {
    const report = join(dir, 'tty-facts.txt');
    giveTo(runner, dir);
    // The terminal is the runner's own, as a user's login terminal is; the shell around isolate reads its facts after the run.
    const around = `t=$(tty); chown ${runner.uid} "$t"; chmod 0620 "$t"; "$@"; echo "rc=$?"; stat -c '%a %Y' "$t" > ${report}`;
    const argv = isolateArgv(runner, ['run', '--backend', backend, '--no-tty', '--', 'sh', '-c', `echo visible-out; echo visible-err >&2; ${ATTACK(0)}; ${ATTACK(1)}; ${ATTACK(2)}; true`]);
    const t = onTerminal(['sh', '-c', around, 'sh', ...argv], { cwd: project, env: { ...env, PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir, TERM: 'xterm' } });
    expect(t.output).toContain('visible-out');
    expect(t.output).toContain('visible-err');
    expect(t.output).toContain('rc=0');
    const [mode, mtime] = readFileSync(report, 'utf8').trim().split(' ');
    expect(mode).toBe('620');
    expect(Number(mtime)).toBeGreaterThan(OLD_TIME);
  });
});
