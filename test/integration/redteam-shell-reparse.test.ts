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
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runners, type Runner } from '../helpers/isolate.js';
import { expectFormRefused, policySite, type PolicySite } from '../helpers/policy-forms.js';

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
  let site: PolicySite;
  beforeAll(() => {
    site = policySite(runner, 'isolate-it-rt-reparse-', ['ls *', 'echo *', 'cat *', 'flock *', 'printf *', 'chmod *'], 'bash');
  });
  afterAll(() => site.cleanup());

  it.each(FORMS)('%s: writes MARK without rules; refused (126) with MARK not written under an allow list without touch', (form, twin) => {
    expectFormRefused(site, form, { twin });
  });
});
