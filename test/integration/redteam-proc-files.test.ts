/**
 * Red team: the kernel's own files at the top of /proc, when isolate runs as
 * root. Each file at the
 * top of /proc (meminfo, stat, version, tty/drivers, ...) is one kernel
 * object shared by every /proc mounted on the host; its owner may chmod it
 * with no capability, and when isolate runs as root the sandbox's uid 0 is
 * that owner. A mode set in the sandbox's /proc is then the mode of the file
 * in every /proc mounted after it (the next sandbox's, a container's, the
 * host's own once its cached entry goes): `chmod 0 /proc/meminfo` would
 * break free, top and ps for every other user until someone put it back.
 * Judged by the effect on the host: the mode a fresh /proc shows after the run.
 * The same holds for /proc/net with the host's network (`--net host`, the
 * `dev` profile): its files are then the host network namespace's.
 * And the files there that only root may read (the flags and use counts of
 * every physical page of the host, kpageflags and kpagecount) are what
 * isolate hides from a run by root elsewhere (host/root-only.ts): the
 * sandbox's uid 0 reads them as their owner, with no capability.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asRunner, homeWithProject, isolate, keyValues, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** A file every kernel has in /proc and nobody depends on: the list of execution domains (mode 0444). */
const VICTIM = '/proc/execdomains';

/** A file of the network namespace's /proc/net every kernel has, which nobody depends on: the packet types (mode 0444). */
const NET_VICTIM = '/proc/net/ptype';

/** The file's mode in a /proc mounted now (the host's own shows a cached entry: a fresh sandbox's does not). */
const modeIn = (stdout: string): string | undefined => keyValues(stdout)['mode'];

/** Root-only files at the top of /proc that a kernel with page monitoring has: physical memory's page flags and use counts. */
const ROOT_ONLY = ['/proc/kpageflags', '/proc/kpagecount', '/proc/kpagecgroup'].filter((path) => existsSync(path));
if (ROOT_ONLY.length === 0) console.warn('red team: root-only /proc files skipped: this kernel has no /proc/kpageflags, kpagecount or kpagecgroup (CONFIG_PROC_PAGE_MONITOR)');

describe.each(backendCases('red team: /proc files'))('red team: the kernel\'s files at the top of /proc ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let before: number;
  beforeEach(() => {
    p = homeWithProject(runner);
    before = statSync(VICTIM).mode & 0o7777;
  });
  afterEach(() => {
    // Should the guard fail, put the host's mode back (root only: an ordinary user cannot have changed it).
    if (process.getuid?.() === 0) chmodSync(VICTIM, before);
    p.cleanup();
  });

  const run = (script: string, args: string[] = []) => isolate(runner, ['run', '--backend', backend, ...args, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });

  it('the command cannot change the mode of a kernel file in /proc, which every /proc mounted later would show', () => {
    const changed = (before & ~0o004).toString(8);
    const attack = run(`chmod ${changed} ${VICTIM} 2>/dev/null && echo chmod=done; echo mode=$(stat -c %a ${VICTIM})`);
    expect(attack.status, attack.stderr).toBe(0);
    // A later sandbox mounts a fresh /proc: the mode it shows is the kernel's, as any /proc mounted from now on shows it.
    const later = run(`echo mode=$(stat -c %a ${VICTIM})`);
    expect(later.status, later.stderr).toBe(0);
    expect(modeIn(later.stdout), `a later /proc shows ${VICTIM} with the mode the command set`).toBe(before.toString(8));
    expect(keyValues(attack.stdout)['chmod']).toBeUndefined();
  });

  it("with the host's network, the command cannot change the mode of a file of the host's /proc/net", () => {
    const mode = statSync(NET_VICTIM).mode & 0o7777;
    try {
      const attack = run(`chmod ${(mode & ~0o004).toString(8)} ${NET_VICTIM} 2>/dev/null && echo chmod=done; true`, ['--net', 'host']);
      expect(attack.status, attack.stderr).toBe(0);
      const later = run(`echo mode=$(stat -c %a ${NET_VICTIM})`, ['--net', 'host']);
      expect(later.status, later.stderr).toBe(0);
      expect(modeIn(later.stdout), `a later /proc shows ${NET_VICTIM} with the mode the command set`).toBe(mode.toString(8));
      expect(keyValues(attack.stdout)['chmod']).toBeUndefined();
    } finally {
      if (process.getuid?.() === 0) chmodSync(NET_VICTIM, mode);
    }
  });

  it.skipIf(ROOT_ONLY.length === 0)('the command cannot read the files there that only root may read (the page flags of the host\'s memory)', () => {
    const script = `for f in ${ROOT_ONLY.join(' ')}; do [ -n "$(head -c 65536 "$f" 2>/dev/null | tr -d '\\000')" ] && echo "read=$f"; done; echo done=1`;
    // Control: on the host, root reads them (an ordinary user cannot, there or in the sandbox).
    if (runner.uid === 0) expect(asRunner(runner, ['sh', '-c', script], { cwd: p.project, env: p.env }).stdout).toContain('read=');
    const r = run(script);
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)['done']).toBe('1');
    expect(r.stdout).not.toContain('read=');
  });

  it("the command does not see the host's file locks in /proc/locks (those of processes outside the sandbox)", async () => {
    const lockFile = join(p.home, 'held.lock');
    writeFileSync(lockFile, '');
    const holder = spawn('flock', [lockFile, 'sleep', '30'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !readFileSync('/proc/locks', 'utf8').includes(` ${holder.pid} `); i++) await new Promise((r) => setTimeout(r, 20));
      expect(readFileSync('/proc/locks', 'utf8'), 'the host holds the lock (control)').toContain(` ${holder.pid} `);
      const r = run(`cat /proc/locks 2>/dev/null; echo done=1`);
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)['done']).toBe('1');
      expect(r.stdout).not.toContain(` ${holder.pid} `);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
