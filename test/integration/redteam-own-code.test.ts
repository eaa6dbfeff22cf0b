/**
 * Red team: isolate's own code inside a path the sandbox can write. A
 * project that installs isolate (node_modules/isolate-sandbox), or a
 * checkout of isolate run on itself, holds what the next `isolate` runs on
 * the host, outside any sandbox: bin/isolate.js, the bundle, the package's
 * manifest and the dependencies the bundle loads. Judged on the host: after
 * a run whose command tried to rewrite them, running that isolate again
 * leaves no trace of the command's code.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { REPO, asRunner, giveTo, projectSite } from '../helpers/isolate.js';

describe.each(backendCases('red team: isolate\'s own code'))('red team: isolate\'s own code in the project ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rtoc-', backendEnv));
  });
  afterEach(() => cleanup());

  /** isolate installed in the project as npm would: the package in node_modules, its external dependencies beside it. */
  const install = (): string => {
    const pkg = join(project, 'node_modules', 'isolate-sandbox');
    mkdirSync(pkg, { recursive: true });
    for (const part of ['bin', 'dist', 'profiles', 'package.json']) cpSync(join(REPO, part), join(pkg, part), { recursive: true });
    for (const dep of ['yaml', 'zod', 'execa']) {
      if (existsSync(join(REPO, 'node_modules', dep))) symlinkSync(join(REPO, 'node_modules', dep), join(project, 'node_modules', dep));
    }
    // The rest of the dependencies, as they would be hoisted beside it (read from the checkout, outside the project).
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    giveTo(runner, dir);
    return pkg;
  };

  const MARK = 'RT-OWN-CODE';
  const plantIn = (file: string): string => `printf '\\nimport("node:fs").then((fs) => fs.writeFileSync("%s", "host"));\\n' ${JSON.stringify(join(dir, 'pwned'))} >> ${file} 2>/dev/null`;

  it('the command cannot rewrite the installed isolate that the next run executes on the host', () => {
    const pkg = install();
    const isolateBin = join(pkg, 'bin', 'isolate.js');
    const script = [plantIn(isolateBin), `echo ${MARK} > ${join(pkg, 'package.json')} 2>/dev/null`, `rm -rf ${join(pkg, 'dist')} 2>/dev/null`, `mv node_modules nm-aside 2>/dev/null`, 'true'].join('; ');
    const r = asRunner(runner, [process.execPath, isolateBin, 'run', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env: { ...env, XDG_STATE_HOME: runner.stateDir } });
    expect(r.status, r.stderr).toBe(0);
    const again = asRunner(runner, [process.execPath, isolateBin, '--version'], { cwd: project, env });
    expect(again.status, again.stderr).toBe(0);
    expect(existsSync(join(dir, 'pwned')), 'code the command planted ran on the host').toBe(false);
    expect(readFileSync(join(pkg, 'package.json'), 'utf8')).not.toContain(MARK);
    expect(existsSync(join(pkg, 'dist'))).toBe(true);
  });

  it('the rest of the project stays writable', () => {
    const pkg = install();
    const r = asRunner(runner, [process.execPath, join(pkg, 'bin', 'isolate.js'), 'run', '--backend', backend, '--', 'sh', '-c', 'echo ok > notes.txt && cat notes.txt'], { cwd: project, env: { ...env, XDG_STATE_HOME: runner.stateDir } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok\n');
    rmSync(join(project, 'notes.txt'));
  });
});
