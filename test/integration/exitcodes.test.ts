/**
 * Exit codes and isolate's own errors: the child's code, 128+N for signals,
 * 126/127 for commands, 125 for isolate failures (with a readable message,
 * no stack trace unless --debug) and never running the command unsandboxed.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STACK_LINE, giveTo, homeWithProject, isolate, plant, runners, type Project } from '../helpers/isolate.js';

describe.each(runners())('exit codes ($label)', (runner) => {
  let p: Project;
  const marker = (): string => join(p.project, 'ran.txt');

  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterEach(() => rmSync(marker(), { force: true }));
  afterAll(() => p.cleanup());

  const run = (args: string[], env: Record<string, string> = p.env) => isolate(runner, args, { cwd: p.project, env });

  /** isolate's own errors: exit 125, a message, no stack trace, and the command did not run. */
  function expectRefused(r: ReturnType<typeof run>, ...mentions: (string | RegExp)[]): void {
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/^isolate: /);
    for (const m of mentions) {
      if (typeof m === 'string') expect(r.stderr).toContain(m);
      else expect(r.stderr).toMatch(m);
    }
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toContain('internal error');
    expect(existsSync(marker()), 'the command must not have run').toBe(false);
  }

  it('the marker command works (control for "did not run")', () => {
    const r = run(['run', '--', 'touch', 'ran.txt']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(marker())).toBe(true);
  });

  it("returns the child's exit code", () => {
    for (const code of [0, 1, 7, 42, 124, 125, 126, 127, 255]) {
      const r = run(['run', '--', 'sh', '-c', `exit ${code}`]);
      expect(r.status, `exit ${code}`).toBe(code);
      expect(r.stderr).toBe('');
    }
  });

  it('returns 128+N when the child is killed by signal N', () => {
    const cases: [string, number][] = [
      ['TERM', 143],
      ['KILL', 137],
      ['INT', 130],
      ['SEGV', 139],
    ];
    for (const [sig, code] of cases) {
      const r = run(['run', '--', 'sh', '-c', `kill -${sig} $$`]);
      expect(r.status, `SIG${sig}`).toBe(code);
      expect(r.signal).toBeNull(); // isolate itself exits normally with the code
    }
  });

  it('returns 127 for a command that does not exist, with a message', () => {
    const r = run(['run', '--', 'no-such-command-xyz', 'arg']);
    expect(r.status).toBe(127);
    expect(r.stderr).toContain('no-such-command-xyz');
    expect(r.stderr).toMatch(/not found/);
    expect(r.stderr).not.toMatch(STACK_LINE);

    const abs = run(['run', '--', '/nonexistent/dir/cmd']);
    expect(abs.status).toBe(127);
    expect(abs.stderr).toContain('/nonexistent/dir/cmd');
  });

  it('returns 127 for a program that exists on the host but is hidden in the sandbox', () => {
    plant(runner, p.home, 'bin/tool', '#!/bin/sh\ntouch ran.txt\n', 0o755);
    try {
      const tool = join(p.home, 'bin', 'tool');
      const r = run(['run', '--', tool]);
      expect(r.status).toBe(127);
      expect(r.stderr).toContain(tool);
      expect(existsSync(marker())).toBe(false);
      // With the directory exposed it runs (it is executable and found).
      const ok = run(['run', '--allow-read', join(p.home, 'bin'), '--', tool]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(existsSync(marker())).toBe(true);
    } finally {
      rmSync(join(p.home, 'bin'), { recursive: true, force: true });
    }
  });

  it('returns 126 for a file that is not executable, and for a directory', () => {
    plant(runner, p.project, 'notexec.sh', '#!/bin/sh\ntouch ran.txt\n', 0o644);
    mkdirSync(join(p.project, 'adir'), { recursive: true });
    giveTo(runner, p.project);
    try {
      const r = run(['run', '--', './notexec.sh']);
      expect(r.status).toBe(126);
      expect(r.stderr).toContain('notexec.sh');
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(marker())).toBe(false);
      // Control: the same file runs once it is executable.
      plant(runner, p.project, 'notexec.sh', '#!/bin/sh\ntouch ran.txt\n', 0o755);
      expect(run(['run', '--', './notexec.sh']).status).toBe(0);
      expect(existsSync(marker())).toBe(true);

      const dir = run(['run', '--', './adir']);
      expect(dir.status).toBe(126);
    } finally {
      rmSync(join(p.project, 'notexec.sh'), { force: true });
      rmSync(join(p.project, 'adir'), { recursive: true, force: true });
    }
  });

  it('returns 125 for an empty command', () => {
    expectRefused(run(['run', '--']), 'no command');
    expectRefused(run(['run']), 'no command');
    expectRefused(run(['run', '--', '']), 'no command');
  });

  it('returns 125, naming the limit, for a command with more arguments than bubblewrap parses (not a failed set-up)', () => {
    const files = Array.from({ length: 9000 }, (_, i) => `f${i}`);
    expectRefused(run(['run', '--', 'touch', 'ran.txt', ...files]), /bubblewrap parses at most 9000 arguments/, /fix: .*standard input/);
    const control = run(['run', '--', 'touch', 'ran.txt', ...files.slice(0, 4000)]);
    expect(control.status, control.stderr).toBe(0);
    expect(existsSync(marker())).toBe(true);
    for (const f of files.slice(0, 4000)) rmSync(join(p.project, f));
  });

  it('returns 125 for an unknown profile, naming it', () => {
    expectRefused(run(['run', '-p', 'no-such-profile', '--', 'touch', 'ran.txt']), 'no-such-profile');
    expectRefused(run(['run', '-p', './missing-profile.yaml', '--', 'touch', 'ran.txt']), 'missing-profile.yaml');
  });

  it('returns 125 for an unknown option or command', () => {
    expectRefused(run(['run', '--no-such-option', '--', 'touch', 'ran.txt']), '--no-such-option');
    expectRefused(run(['run', '--net', 'bogus', '--', 'touch', 'ran.txt']), 'bogus');
    expectRefused(run(['frobnicate']), 'frobnicate');
  });

  describe('bad profile files', () => {
    const dir = (): string => join(p.home, 'profiles');
    beforeAll(() => {
      const files: Record<string, string> = {
        'typo.yaml': 'extends: default\nfilesystem:\n  wrte:\n    - /tmp\n',
        'wrongtype.yaml': 'extends: default\nfilesystem:\n  write: /tmp\n',
        'wrongmode.yaml': 'extends: default\nnetwork:\n  mode: everything\n',
        'malformed.yaml': 'extends: default\ndescription: fine\nfilesystem:\n  write: [a, b\n  read: x\n',
        'cycle-a.yaml': 'extends: ./cycle-b.yaml\n',
        'cycle-b.yaml': 'extends: ./cycle-a.yaml\n',
        'missing-write.yaml': 'extends: default\nfilesystem:\n  write:\n    - /nonexistent/isolate-it-missing-dir\n',
        'optional-write.yaml': 'extends: default\nfilesystem:\n  write:\n    - { path: /nonexistent/isolate-it-missing-dir, optional: true }\n',
        'extends-missing.yaml': 'extends: ./nowhere.yaml\n',
      };
      for (const [name, text] of Object.entries(files)) plant(runner, dir(), name, text);
      giveTo(runner, p.home);
    });
    const profile = (name: string): string => join(dir(), name);

    it('unknown key: names the file and the key path', () => {
      expectRefused(run(['run', '-p', profile('typo.yaml'), '--', 'touch', 'ran.txt']), profile('typo.yaml'), 'filesystem.wrte');
    });

    it('wrong type: names the file and the key path', () => {
      expectRefused(run(['run', '-p', profile('wrongtype.yaml'), '--', 'touch', 'ran.txt']), profile('wrongtype.yaml'), 'filesystem.write');
      expectRefused(run(['run', '-p', profile('wrongmode.yaml'), '--', 'touch', 'ran.txt']), profile('wrongmode.yaml'), 'network.mode');
    });

    it('malformed YAML: names the file and the line', () => {
      expectRefused(run(['run', '-p', profile('malformed.yaml'), '--', 'touch', 'ran.txt']), profile('malformed.yaml'), /line [45]\b/);
    });

    it('extends cycle: names both files', () => {
      expectRefused(run(['run', '-p', profile('cycle-a.yaml'), '--', 'touch', 'ran.txt']), /cycle/, profile('cycle-a.yaml'), profile('cycle-b.yaml'));
    });

    it('extends a missing file: names it', () => {
      expectRefused(run(['run', '-p', profile('extends-missing.yaml'), '--', 'touch', 'ran.txt']), 'nowhere.yaml');
    });

    it('a writable path that does not exist: names the file, the key and the path', () => {
      expectRefused(
        run(['run', '-p', profile('missing-write.yaml'), '--', 'touch', 'ran.txt']),
        profile('missing-write.yaml'),
        'filesystem.write',
        '/nonexistent/isolate-it-missing-dir',
      );
    });

    it('the same path marked optional is skipped and the command runs', () => {
      const r = run(['run', '-p', profile('optional-write.yaml'), '--', 'touch', 'ran.txt']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(existsSync(marker())).toBe(true);
    });

    it('--allow-write of a missing path is refused too', () => {
      expectRefused(run(['run', '--allow-write', '/nonexistent/isolate-it-missing-dir', '--', 'touch', 'ran.txt']), '/nonexistent/isolate-it-missing-dir');
    });

    it('explain --debug prints a stack trace for the same error', () => {
      const r = run(['explain', '--debug', '-p', profile('typo.yaml'), '--', 'true']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('filesystem.wrte');
      expect(r.stderr).toMatch(STACK_LINE);
    });

    it('run --debug prints a stack trace for the same error', () => {
      const r = run(['run', '--debug', '-p', profile('typo.yaml'), '--', 'touch', 'ran.txt']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('filesystem.wrte');
      expect(existsSync(marker())).toBe(false);
      expect(r.stderr).toMatch(STACK_LINE);
    });
  });

  describe('when bubblewrap cannot be used, isolate refuses and runs nothing', () => {
    it('bwrap missing (ISOLATE_BWRAP points nowhere): 125 and the fix', () => {
      // With no bubblewrap, auto would pick nsjail when it is installed: point that nowhere too.
      const r = run(['run', '--', 'touch', 'ran.txt'], { ...p.env, ISOLATE_BWRAP: '/nonexistent/bwrap', ISOLATE_NSJAIL: '/nonexistent/nsjail' });
      expectRefused(r, /bubblewrap/, 'apt-get install');
      expect(r.stderr).toContain('bubblewrap');
    });

    it('ISOLATE_BWRAP pointing at a program that is not bubblewrap: 125', () => {
      const r = run(['run', '--', 'touch', 'ran.txt'], { ...p.env, ISOLATE_BWRAP: '/bin/true' });
      expect(r.status, r.stderr).toBe(125);
      expect(existsSync(marker())).toBe(false);
    });

    it('a bwrap that fails to set up the sandbox: 125, not its exit code', () => {
      const fake = plant(runner, p.home, 'fakebin/bwrap', '#!/bin/sh\n# bubblewrap 0.9.0\necho "bwrap: setup failed" >&2\nexit 1\n', 0o755);
      try {
        const r = run(['run', '--', 'touch', 'ran.txt'], { ...p.env, ISOLATE_BWRAP: fake });
        expect(r.status, r.stderr).toBe(125);
        expect(r.stderr).toContain('bwrap: setup failed');
        expect(r.stderr).toMatch(/not run|could not/);
        expect(existsSync(marker())).toBe(false);
      } finally {
        rmSync(join(p.home, 'fakebin'), { recursive: true, force: true });
      }
    });

    it('a bwrap older than 0.8.0 (cannot disable nested user namespaces): 125', () => {
      const fake = join(p.home, 'oldbin', 'bwrap');
      mkdirSync(join(p.home, 'oldbin'), { recursive: true });
      writeFileSync(fake, '#!/bin/sh\n# bubblewrap 0.6.1\nexec "$@"\n', { mode: 0o755 });
      giveTo(runner, p.home);
      try {
        const r = run(['run', '--', 'touch', 'ran.txt'], { ...p.env, ISOLATE_BWRAP: fake });
        expectRefused(r, '0.6.1', '0.8.0');
      } finally {
        rmSync(join(p.home, 'oldbin'), { recursive: true, force: true });
      }
    });

    it('doctor reports the missing bwrap and exits 1', () => {
      const r = run(['doctor'], { ...p.env, ISOLATE_BWRAP: '/nonexistent/bwrap' });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/FAIL.*bubblewrap/);
      expect(r.stdout).toContain('apt-get install');
    });
  });
});
