/**
 * Red team: a runner (taskset, flock, chrt, setarch, sg, xargs, script -c,
 * git's global options) whose command is computed at run time, or that is
 * given none and starts a shell reading its input (setarch, linux64; unshare
 * is refused by the sandbox's seccomp filter, so only its unit test shows
 * it). `X=touch; taskset 1 $X MARK` runs touch, but the policy knew the
 * words only up to `$X`, found no command after taskset's operands, and
 * read it as taskset running nothing: under an allow list that names the
 * runner (and not touch) it ran, and MARK was written. A runner's command
 * that is computed at run time cannot be decided, as a wrapper's (`nice
 * $X`) already was not, and a runner given none runs a shell that reads
 * its input, as `sh` alone does: an allow list refuses both (126).
 * Each form is first run without command rules, to show that it really
 * writes MARK.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runners, type Runner } from '../helpers/isolate.js';
import { expectFormRefused, policySite, type PolicySite } from '../helpers/policy-forms.js';

/** Scripts that write MARK through a runner whose command is the value of X (GROUP is the runner's own group; git's alias runs it). */
const FORMS = [
  'X=touch; taskset 1 $X MARK',
  'X=touch; flock lock $X MARK',
  'X=touch; chrt -o 0 $X MARK',
  'X=touch; setarch x86_64 $X MARK',
  'X="touch MARK"; sg - GROUP "$X"',
  'X=touch; echo MARK | xargs $X',
  'X="touch MARK"; script -qc "$X" /dev/null',
  'X="-c alias.x=!touch x MARK"; git $X',
];

describe.each(runners())('red team: a runner\'s command computed at run time ($label)', (runner: Runner) => {
  let site: PolicySite;
  beforeAll(() => {
    const group = execFileSync('getent', ['group', String(runner.gid)], { encoding: 'utf8' }).split(':')[0] ?? '';
    const runs = ['taskset', 'flock', 'chrt', 'setarch', 'sg', 'xargs', 'script', 'git', 'linux64'].map((r) => `${r} *`);
    site = policySite(runner, 'isolate-it-rt-runner-computed-', ['ls *', 'echo *', ...runs], 'sh', { GROUP: group });
  });
  afterAll(() => site.cleanup());

  // Given no command, these start a shell that reads its commands from their input: the policy read them as running nothing.
  it.each(['echo "touch MARK" | setarch x86_64', 'echo "touch MARK" | linux64'])('%s: writes MARK without rules, and is refused (126) with MARK not written under an allow list naming the runner', (form) => {
    expectFormRefused(site, form, { reason: 'reads its script from standard input' });
  });

  it.each(FORMS)('%s: writes MARK without rules, and is refused (126) with MARK not written under an allow list without touch', (form) => {
    expectFormRefused(site, form, { reason: 'computed at run time' });
  });
});
