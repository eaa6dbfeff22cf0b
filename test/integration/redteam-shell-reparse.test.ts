/**
 * Red team: code a script hands to bash or a runner to run later, which the
 * policy read as data. flock -c runs $SHELL with its script, so a script
 * that sets SHELL chooses the program; bash parses a (…) value given to
 * declare again as an array assignment and runs its $(…); unset and test -v
 * evaluate the subscript of a name, which an unquoted [ (a glob character)
 * hid from the policy. Each form below wrote MARK under an allow list that
 * does not name touch; each must now be refused (126), with MARK not
 * written. Each is first run without command rules, to show that it really
 * writes MARK, and its harmless twin runs under the allow list, to show that
 * only the attack is refused.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolate, projectSite, runners, type Runner } from '../helpers/isolate.js';

/** A shell that touches the last word of its script: flock -c runs `$SHELL -c 'echo MARK'`. */
const SH2 = `printf '#!/bin/sh\\nset -- $2\\ntouch "$2"\\n' > sh2 && chmod +x sh2 && `;

/** Each attack (MARK is replaced by a name of each case's own), and the same script without it. */
const FORMS: ReadonlyArray<readonly [string, string]> = [
  [`${SH2}SHELL=./sh2 flock lock -c 'echo MARK'`, `${SH2}flock lock -c 'echo MARK'`],
  [`${SH2}export SHELL=./sh2; flock lock -c 'echo MARK'`, `${SH2}flock lock -c 'echo MARK'`],
  ["declare -a a='($(touch MARK))'", "declare -a a='(1 2)'"],
  ['a=(1); unset a[\\$\\(touch\\ MARK\\)]', 'a=(1); unset a[0]'],
  ['test -v a[\\$\\(touch\\ MARK\\)] || true', 'test -v a[0] || true'],
];

describe.each(runners())('red team: code bash or a runner parses again ($label)', (runner: Runner) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  let allow: string;
  let open: string;
  let n = 0;
  beforeAll(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rt-reparse-'));
    allow = join(dir, 'allow.yaml');
    writeFileSync(allow, 'extends: default\ncommands: { allow: ["ls *", "echo *", "cat *", "flock *", "printf *", "chmod *"] }\n', { mode: 0o644 });
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
