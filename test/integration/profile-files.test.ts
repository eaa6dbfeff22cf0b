/**
 * The profile files a run was started with, kept in the writable project,
 * cannot be changed by that run to widen the next one: neither the file
 * named with -p (relative), nor the files it extends, nor a symbolic link
 * on the way to one (such a run is refused: the command could point the
 * link at a profile of its own). Judged on the host: the files' contents,
 * and what the next run gets.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

const WIDE = 'extends: default\\nnetwork: {mode: host}\\nenvironment: {pass: [RT_API_TOKEN]}\\n';

describe.each(backendCases('profile file checks'))('profile files in the writable project ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-pf-'));
    project = join(dir, 'project');
    mkdirSync(join(project, 'conf'), { recursive: true });
    env = { HOME: join(dir, 'home'), PATH: DEFAULT_PATH, ...backendEnv };
  });
  afterEach(() => cleanup());

  const run = (profile: string, script: string, extra: Record<string, string> = {}) =>
    isolate(runner, ['run', '--backend', backend, '-p', profile, '--', 'sh', '-c', script], { cwd: project, env: { ...env, ...extra } });

  it('neither the profile (-p conf/isolate.yaml) nor the file it extends can be rewritten, moved or replaced by its run', () => {
    writeFileSync(join(project, 'conf/isolate.yaml'), 'extends: ./base.yaml\n');
    writeFileSync(join(project, 'conf/base.yaml'), 'extends: default\n');
    giveTo(runner, dir);
    const attack = [
      `printf '${WIDE}' > conf/base.yaml`,
      `printf '${WIDE}' > conf/isolate.yaml`,
      `mv conf/base.yaml conf/old.yaml && printf '${WIDE}' > conf/base.yaml`,
      `mv conf conf-old && mkdir conf && printf '${WIDE}' > conf/base.yaml`,
    ].map((a) => `(${a}) 2>/dev/null; echo "rc=$?"`).join('\n');
    const first = run('conf/isolate.yaml', attack);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.trim().split('\n'), 'every attempt fails').not.toContain('rc=0');
    expect(readFileSync(join(project, 'conf/isolate.yaml'), 'utf8')).toBe('extends: ./base.yaml\n');
    expect(readFileSync(join(project, 'conf/base.yaml'), 'utf8')).toBe('extends: default\n');
    const second = run('conf/isolate.yaml', 'echo "token=${RT_API_TOKEN:-none}"', { RT_API_TOKEN: 'rt-secret-token-value' });
    expect(second.stdout, second.stderr).toBe('token=none\n');
  });

  it('a profile reached through a symbolic link inside the project is refused (exit 125), and the command does not run', () => {
    const outside = join(dir, 'shared');
    mkdirSync(outside);
    writeFileSync(join(outside, 'isolate.yaml'), 'extends: default\n');
    symlinkSync('../shared/isolate.yaml', join(project, 'isolate.yaml'));
    symlinkSync('../../shared', join(project, 'conf/shared'));
    giveTo(runner, dir);
    for (const profile of ['./isolate.yaml', 'conf/shared/isolate.yaml']) {
      const r = run(profile, 'echo RAN > ran.txt');
      expect(r.status, `${profile}: ${r.stderr}`).toBe(125);
      expect(r.stderr).toContain('symbolic link');
      expect(existsSync(join(project, 'ran.txt')), profile).toBe(false);
    }
    // Named by its real path it runs: the link outside the writable paths is not the sandbox's to change.
    const real = run(join(outside, 'isolate.yaml'), 'echo RAN');
    expect(real.stdout, real.stderr).toBe('RAN\n');
  });
});
