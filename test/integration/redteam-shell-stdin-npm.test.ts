/**
 * Red team: a command that runs more than its words show. dash (Debian's
 * /bin/sh) given -s with -c runs the -c script and then the commands it
 * reads from its input, so `echo 'touch MARK' | sh -s -c 'echo hi'` ran
 * touch under an allow list of echo and sh; npm reads any prefix only one of
 * its commands starts with as that command, so `npm exe -c 'touch MARK'` is
 * `npm exec` and ran touch under an allow list of npm. Each form wrote MARK;
 * each must now be refused (126), with MARK not written. Each is first run
 * without command rules, to show that it really writes MARK, and its
 * harmless twin runs under the allow list, to show that only the attack is
 * refused. npm's settings given on its command line (--script-shell=prog)
 * are covered by the unit tests (test/unit/shell-stdin-npm.test.ts).
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolate, projectSite, runners, type Runner } from '../helpers/isolate.js';

/** Each attack (MARK is replaced by a name of each case's own), and the same command without it. */
const FORMS: ReadonlyArray<readonly [string, string]> = [
  ["echo 'touch MARK' | sh -s -c 'echo hi'", "echo 'echo MARK' | sh -c 'echo hi'"],
  ["sh -sc 'echo hi' <<'EOF'\ntouch MARK\nEOF", "sh -c 'echo hi' <<'EOF'\ntouch MARK\nEOF"],
  ["npm exe -c 'touch MARK'", "npm exec -c 'echo MARK'"],
];

describe.each(runners())('red team: a shell reading its input after -c, and npm abbreviated ($label)', (runner: Runner) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  let allow: string;
  let open: string;
  let n = 0;
  beforeAll(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rt-stdin-npm-'));
    allow = join(dir, 'allow.yaml');
    writeFileSync(allow, 'extends: default\ncommands: { allow: ["ls *", "echo *", "cat *", "sh *", "npm *"] }\n', { mode: 0o644 });
    open = join(dir, 'open.yaml');
    writeFileSync(open, 'extends: default\n', { mode: 0o644 });
  });
  afterAll(() => cleanup());

  const run = (profile: string, script: string): ReturnType<typeof isolate> => isolate(runner, ['run', '-p', profile, '--', 'bash', '-c', script], { cwd: project, env });
  const mark = (): string => `mark-${n++}`;

  it.each(FORMS)('%s: writes MARK without rules; refused (126) with MARK not written under an allow list without touch', (form, twin) => {
    const control = mark();
    const ran = run(open, form.replaceAll('MARK', control));
    expect(ran.status, ran.stderr).toBe(0);
    expect(existsSync(join(project, control)), 'the form does not write its file: the test proves nothing').toBe(true);
    const harmless = run(allow, twin.replaceAll('MARK', mark()));
    expect(harmless.status, `the harmless twin is refused too: the test proves nothing\n${harmless.stderr}`).toBe(0);
    const target = mark();
    const r = run(allow, form.replaceAll('MARK', target));
    expect(existsSync(join(project, target)), 'the command no rule allows ran').toBe(false);
    expect(r.status, r.stderr).toBe(126);
  });
});
