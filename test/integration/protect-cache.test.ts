/**
 * The protected-name search's cache, judged on the host: a name created deep
 * in a cached tree between two runs is protected in the second run; a
 * damaged cache, or one others could have written, is ignored; and no
 * sandbox can write the cache.
 */
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolate, keyValues, type Runner } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { attempts } from '../helpers/fs-fixture.js';
import { cacheFiles, cachedAsReusable, cachedNames, forgeCache } from '../helpers/scan-cache.js';
import { settledTrees } from '../helpers/settled-trees.js';

const cases = backendCases('the protected-name cache');
const treeOf = settledTrees(cases, 1500);

/** Write `content` at `rel` in the project as the runner would have (owned by it). */
function plantAs(runner: Runner, project: string, rel: string, content: string | null): string {
  const path = join(project, rel);
  if (content === null) mkdirSync(path, { recursive: true });
  else writeFileSync(path, content);
  chownSync(path, runner.uid, runner.gid);
  return path;
}

describe.each(cases)('the protected-name cache ($label)', ({ label, runner, backend, backendEnv }) => {
  const tree = () => treeOf(label);
  const run = (env: Record<string, string>, script: string) =>
    isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: tree().project, env: { HOME: tree().base, ...backendEnv, ...env } });

  it('protects a name created deep in a cached tree between two runs', () => {
    const { base, project } = tree();
    const state = join(base, 'state-deep');
    mkdirSync(state);
    chownSync(state, runner.uid, runner.gid);
    const first = run({ XDG_STATE_HOME: state }, 'true');
    expect(first.status, first.stderr).toBe(0);
    const [file] = cacheFiles(join(state, 'isolate', 'scan-cache'));
    expect(file).toBeDefined();
    expect(cachedAsReusable(file as string, 'd0/d1/d2/d3')).toBe(true); // the next run may take this listing from the cache

    const envrc = plantAs(runner, project, 'd0/d1/d2/d3/.envrc', 'echo host\n');
    plantAs(runner, project, 'd1/d2/d3/.git', null);
    plantAs(runner, project, 'd1/d2/d3/.git/hooks', null);
    const config = plantAs(runner, project, 'd1/d2/d3/.git/config', '[core]\n');
    const second = run(
      { XDG_STATE_HOME: state },
      attempts({
        envrc: 'echo pwned >> d0/d1/d2/d3/.envrc',
        hook: 'echo pwned > d1/d2/d3/.git/hooks/pre-commit',
        config: 'echo pwned >> d1/d2/d3/.git/config',
        control: 'echo ok > d0/d1/d2/d3/notes.txt',
      }),
    );
    expect(second.status, second.stderr).toBe(0);
    expect(keyValues(second.stdout)).toEqual({ envrc: 'blocked', hook: 'blocked', config: 'blocked', control: 'WROTE' });
    expect(readFileSync(envrc, 'utf8')).toBe('echo host\n');
    expect(readFileSync(config, 'utf8')).toBe('[core]\n');
  });

  it('ignores a damaged cache, and a forged one that others could have written', () => {
    const { base, project } = tree();
    const state = join(base, 'state-forged');
    mkdirSync(state);
    chownSync(state, runner.uid, runner.gid);
    expect(run({ XDG_STATE_HOME: state }, 'true').status).toBe(0);
    const dir = join(state, 'isolate', 'scan-cache');
    const names = cachedNames(dir, project) ?? [];
    const envrc = plantAs(runner, project, 'd2/d3/d4/d5/.envrc', 'echo host\n');
    const tryEnvrc = attempts({ envrc: 'echo pwned >> d2/d3/d4/d5/.envrc' });
    const expectProtected = (what: string): void => {
      const r = run({ XDG_STATE_HOME: state }, tryEnvrc);
      expect(r.status, `${what}: ${r.stderr}`).toBe(0);
      expect(keyValues(r.stdout)['envrc'], what).toBe('blocked');
      expect(readFileSync(envrc, 'utf8')).toBe('echo host\n');
    };

    const [file] = cacheFiles(dir);
    writeFileSync(file as string, 'garbage');
    expectProtected('garbage');
    const other = runner.uid === 0 ? 65_534 : 0;
    if (process.getuid?.() === 0) {
      chownSync(forgeCache(dir, project, names, '.envrc'), other, other);
      expectProtected(`a forged cache owned by uid ${other}`);
    } else console.warn('protected-name cache: a forged cache of another user is not tried (creating one needs root)');
    chownSync(forgeCache(dir, project, names, '.envrc', 0o660), runner.uid, runner.gid);
    expectProtected('a forged cache writable by its group');

    // Control: the same forgery, private to the user, is believed; which is why no sandbox may write it (next test).
    chownSync(forgeCache(dir, project, names, '.envrc'), runner.uid, runner.gid);
    expect(keyValues(run({ XDG_STATE_HOME: state }, tryEnvrc).stdout)['envrc']).toBe('WROTE');
    writeFileSync(envrc, 'echo host\n');
  });

  it('keeps the cache unwritable from inside the sandbox, also when isolate\'s state directory is inside the project', () => {
    const { project } = tree();
    const state = join(project, '.state');
    mkdirSync(state);
    chownSync(state, runner.uid, runner.gid);
    expect(run({ XDG_STATE_HOME: state }, 'true').status).toBe(0);
    const dir = join(state, 'isolate', 'scan-cache');
    const [file] = cacheFiles(dir);
    expect(file).toBeDefined();
    const rel = (file as string).slice(project.length + 1);
    const r = run(
      { XDG_STATE_HOME: state },
      attempts({
        overwrite: `echo forged > ${rel}`,
        append: `echo forged >> ${rel}`,
        remove: `rm ${rel}`, // not -f: isolate's directory is hidden in the sandbox, and rm -f of a name it cannot see succeeds
        rename: `mv ${rel} ${rel}.x`,
        chmod: `chmod 0666 ${rel}`,
        add: `echo forged > .state/isolate/scan-cache/x.bin`,
        moveDir: 'mv .state/isolate/scan-cache .state/isolate/moved && mkdir .state/isolate/scan-cache',
        moveState: 'mv .state .state-moved && mkdir -p .state/isolate/scan-cache',
      }),
    );
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    for (const key of ['overwrite', 'append', 'remove', 'rename', 'chmod', 'add', 'moveDir', 'moveState']) expect(kv[key], key).toBe('blocked');
    // The file is still isolate's: private, a cache, nothing the command wrote (isolate may have replaced it since).
    expect(readFileSync(file as string).includes('forged')).toBe(false);
    expect(cachedNames(dir, project)).toBeDefined();
    expect(cacheFiles(dir)).toEqual([file]);
    expect(statSync(file as string).mode & 0o777).toBe(0o600);
    expect(statSync(file as string).uid).toBe(runner.uid);
  });
});
