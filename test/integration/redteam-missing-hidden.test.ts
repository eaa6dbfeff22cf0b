/**
 * Red team: a hidden path that does not exist when the run starts, inside
 * the writable project (`deny: ["${CWD}/.env"]` before there is one). A host
 * program that makes it during the run (`vercel env pull`, an editor, a
 * login) must not hand it to the command, and the command must not make it
 * either. Judged by what the command printed and what is on the host after.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate, isolateAsync, projectSite, type Runner, START_WAIT_MS } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

const SECRET = 'HOST-SECRET-4f1c9a';

/** The command: say it is up, wait for `go` (and `pause` more), then print what it reads at `rel`. */
const reader = (rel: string, pause = ''): string =>
  ['touch ready', 'i=0', 'while [ $i -lt 400 ] && [ ! -e go ]; do sleep 0.02; i=$((i+1)); done', ...(pause === '' ? [] : [`sleep ${pause}`]), `cat ${rel} 2>&1; true`].join('\n');

async function waitFor(path: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (existsSync(path)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

interface Site {
  runner: Runner;
  project: string;
  env: Record<string, string>;
  args: string[];
  cleanup: () => void;
}

function site(runner: Runner, backend: string, backendEnv: Record<string, string>, deny: string): Site {
  const s = projectSite(runner, 'isolate-it-missing-hidden-', backendEnv);
  const profile = join(s.dir, 'hides.yaml');
  writeFileSync(profile, ['extends: default', 'filesystem:', '  deny:', `    - "\${CWD}/${deny}"`, ''].join('\n'));
  giveTo(runner, s.dir);
  return { runner, project: s.project, env: s.env, args: ['run', '--backend', backend, '-p', profile, '--'], cleanup: s.cleanup };
}

describe.each(backendCases('red team: a hidden path made during the run'))('red team: a hidden path made during the run ($label)', ({ runner, backend, backendEnv }) => {
  it('a secret a host program writes where the hidden path would be is not read by the command', async () => {
    const s = site(runner, backend, backendEnv, '.env');
    try {
      const run = isolateAsync(runner, [...s.args, 'sh', '-c', reader('.env')], { cwd: s.project, env: s.env, timeoutMs: 30_000 });
      expect(await waitFor(join(s.project, 'ready'), START_WAIT_MS), 'the command started').toBe(true);
      // A host program of the user's writes the file in place (root's is not stopped by the placeholder's mode).
      const wrote = asRunner(runner, ['sh', '-c', `echo ${SECRET} > .env`], { cwd: s.project, env: s.env });
      writeFileSync(join(s.project, 'go'), '');
      const r = await run;
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      // What the host program wrote stays the user's: isolate removes only a placeholder that is still its own.
      if (wrote.status === 0) expect(readFileSync(join(s.project, '.env'), 'utf8')).toBe(`${SECRET}\n`);
      else expect(existsSync(join(s.project, '.env')), 'the placeholder is removed after the run').toBe(false);
    } finally {
      s.cleanup();
    }
  });

  it('a host program that saves the hidden path by renaming a new file over it stops the run, unread', async () => {
    const s = site(runner, backend, backendEnv, '.env');
    try {
      // The command reads a second after the host replaced the placeholder: long after isolate noticed, on a busy machine too.
      const run = isolateAsync(runner, [...s.args, 'sh', '-c', reader('.env', '1')], { cwd: s.project, env: s.env, timeoutMs: 30_000 });
      expect(await waitFor(join(s.project, 'ready'), START_WAIT_MS), 'the command started').toBe(true);
      const file = join(s.project, '.env');
      writeFileSync(`${file}.new`, `${SECRET}\n`);
      giveTo(runner, `${file}.new`);
      renameSync(`${file}.new`, file);
      writeFileSync(join(s.project, 'go'), '');
      const r = await run;
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.status, r.stderr).toBe(125);
      expect(readFileSync(file, 'utf8'), "the host's new file is left as it is").toBe(`${SECRET}\n`);
    } finally {
      s.cleanup();
    }
  });

  it('the command cannot make the hidden path, nor a directory on the way to it', () => {
    for (const deny of ['.env', 'secrets/key']) {
      const s = site(runner, backend, backendEnv, deny);
      try {
        const r = isolate(runner, [...s.args, 'sh', '-c', 'mkdir -p secrets 2>/dev/null; echo planted > .env 2>/dev/null; echo planted > secrets/key 2>/dev/null; true'], { cwd: s.project, env: s.env });
        expect(r.status, r.stderr).toBe(0);
        const top = deny.split('/')[0] as string;
        expect(existsSync(join(s.project, top)), `${top} is not left behind`).toBe(false);
      } finally {
        s.cleanup();
      }
    }
  });
});
