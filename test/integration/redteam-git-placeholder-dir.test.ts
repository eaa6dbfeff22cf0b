/**
 * Red team: the placeholder of a missing `.git` is an empty read-only
 * directory (git-subdirectory.test.ts). A concurrent sandbox of the same
 * user that writes the directory above it (a run in the project, started
 * before the run in its subdirectory made the placeholder, so it does not
 * keep that placeholder read-only) owns the placeholder on the host: it can
 * chmod it and make a repository in it, with a config whose core.fsmonitor
 * runs a program on the user's next `git status` there, and hooks.
 *
 * Judged by what host git in the subdirectory obeys after both runs: the
 * config, hooks and info the sandbox made there are moved aside by the search
 * after the run (as for a repository made anywhere in a writable path), and
 * host git runs nothing of the sandbox's. The rest of that repository (HEAD,
 * objects, refs) stays, as it does wherever a command makes one
 * (docs/protected-files.md); the outer run could have made it there without
 * the placeholder.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolateAsync, pollFor, type Project, START_WAIT_MS } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { checkoutWithSubdirectory, type Checkout } from '../helpers/git-checkout.js';

describe.each(backendCases('a concurrent sandbox and the .git placeholder directory'))('a concurrent sandbox and the .git placeholder directory ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let sub: string;
  let hostGit: Checkout['hostGit'];
  const run = (cwd: string, extra: string[], script: string) =>
    isolateAsync(runner, ['run', '--backend', backend, ...extra, '--', 'sh', '-c', script], { cwd, env: { ...p.env, ...backendEnv }, timeoutMs: 40_000 });

  beforeEach(() => {
    ({ p, sub, hostGit } = checkoutWithSubdirectory(runner));
  });
  afterEach(() => p.cleanup());

  it('a run in the project turns the placeholder of a run in its subdirectory into a repository: host git there runs nothing of it', async () => {
    const pwned = join(p.home, 'pwned');
    // The outer run: up first, then waits for the inner run's placeholder and makes it a repository with a config and a hook.
    const outer = run(p.project, [], [
      'touch OUTER-UP',
      'i=0; while [ ! -d packages/foo/.git ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done',
      'chmod 755 packages/foo/.git && git init -q packages/foo',
      `printf '[core]\\n\\tfsmonitor = "touch ${pwned}"\\n' >> packages/foo/.git/config`,
      `mkdir -p packages/foo/.git/hooks && printf '#!/bin/sh\\ntouch ${pwned}\\n' > packages/foo/.git/hooks/post-checkout && chmod +x packages/foo/.git/hooks/post-checkout`,
      'touch packages/foo/OUTER-DONE',
    ].join('\n'));
    await pollFor('the outer sandbox is up', () => (existsSync(join(p.project, 'OUTER-UP')) ? true : undefined), START_WAIT_MS);
    // The inner run: in the subdirectory, lasting until the outer run is done with its placeholder.
    const inner = run(sub, ['--allow-read', p.project], 'i=0; while [ ! -e OUTER-DONE ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done; ls -A .git | wc -l');
    const [o, n] = await Promise.all([outer, inner]);
    expect(o.status, o.stderr).toBe(0);
    expect(n.status, n.stderr).toBe(0);
    expect(existsSync(join(sub, 'OUTER-DONE')), 'the outer run reached the placeholder').toBe(true);
    const left = existsSync(join(sub, '.git')) ? readdirSync(join(sub, '.git')) : [];
    expect(left.filter((e) => ['config', 'hooks', 'info'].includes(e)), 'nothing host git obeys is left in the placeholder\'s place').toEqual([]);
    hostGit(sub, 'status');
    hostGit(sub, 'checkout', '-q', '-B', 'x');
    expect(existsSync(pwned), 'host git in the subdirectory ran the sandbox\'s fsmonitor or hook').toBe(false);
  }, 60_000);
});
