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
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runners, type Runner } from '../helpers/isolate.js';
import { expectFormRefused, policySite, type PolicySite } from '../helpers/policy-forms.js';

/** Each attack (MARK is replaced by a name of each case's own), and the same command without it. */
const FORMS: ReadonlyArray<readonly [string, string]> = [
  ["echo 'touch MARK' | sh -s -c 'echo hi'", "echo 'echo MARK' | sh -c 'echo hi'"],
  ["sh -sc 'echo hi' <<'EOF'\ntouch MARK\nEOF", "sh -c 'echo hi' <<'EOF'\ntouch MARK\nEOF"],
  ["npm exe -c 'touch MARK'", "npm exec -c 'echo MARK'"],
];

describe.each(runners())('red team: a shell reading its input after -c, and npm abbreviated ($label)', (runner: Runner) => {
  let site: PolicySite;
  beforeAll(() => {
    site = policySite(runner, 'isolate-it-rt-stdin-npm-', ['ls *', 'echo *', 'cat *', 'sh *', 'npm *'], 'bash');
  });
  afterAll(() => site.cleanup());

  it.each(FORMS)('%s: writes MARK without rules; refused (126) with MARK not written under an allow list without touch', (form, twin) => {
    expectFormRefused(site, form, { twin });
  });
});
