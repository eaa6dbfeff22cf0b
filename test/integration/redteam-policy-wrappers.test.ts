/**
 * Red team: a denied command behind a wrapper whose options the policy read
 * otherwise than the wrapper does. GNU getopt_long takes any unique prefix
 * of a long option (`env --u X` is `--unset X`, `timeout --sig`, `xargs
 * --arg`, `flock --wa`), `env` reads NAME=VALUE words after `--`, xargs'
 * `-i` takes a value only in its own word, and `command -v` looks a name up
 * only before the command. Each script below ran `touch MARK` (or `cp`)
 * under a profile that denies it; each must now be refused (126) and MARK
 * must not exist afterwards. Each is first run without command rules, to
 * show that it really writes MARK.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolate, projectSite, runners, type Runner } from '../helpers/isolate.js';

/** Scripts that write the file MARK through a wrapper (MARK is replaced by a name of each case's own, GROUP by the runner's group). */
const FORMS = [
  'command -p cp -v /etc/hostname MARK',
  'env --u X touch MARK',
  'env -- A=B touch MARK',
  "env --s 'touch MARK'",
  "env --split-str='touch MARK'",
  'env --ch . touch MARK',
  'timeout --sig KILL 9 touch MARK',
  'timeout --kill 1 5 touch MARK',
  'nice --adj 1 touch MARK',
  'stdbuf --out 0 touch MARK',
  'echo MARK | xargs --max-a 1 touch',
  'echo MARK | xargs --arg /dev/stdin touch',
  'echo MARK | xargs --proc X touch',
  'echo MARK | xargs -ri touch {}',
  'echo MARK | xargs -rIX touch X',
  'echo MARK | xargs --repl=X touch X',
  'flock --wa 5 lock touch MARK',
  'taskset --cpu 0 touch MARK',
  // GNU env reads a lone - as -i; sg's - is its login flag, before the group; watch -d takes its value in its own word (-dx is not -x).
  'env - touch MARK',
  'env - A=1 touch MARK',
  "sg - GROUP 'touch MARK'",
  "TERM=xterm timeout 2 watch -t -dx echo 'a;touch MARK;kill $PPID'; true",
  // npx (and npm exec) with no command runs the one npm_config_call names.
  "npm_config_call='touch MARK' npx",
  "NPM_CONFIG_CALL='touch MARK' npm exec",
];

describe.each(runners())('red team: wrappers\' options read as the wrapper reads them ($label)', (runner: Runner) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  let deny: string;
  let allow: string;
  let open: string;
  let n = 0;
  let group: string;
  beforeAll(() => {
    group = execFileSync('getent', ['group', String(runner.gid)], { encoding: 'utf8' }).split(':')[0] ?? '';
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rt-wrappers-'));
    deny = join(dir, 'deny.yaml');
    writeFileSync(deny, 'extends: default\ncommands: { deny: ["git push *", "touch *", "cp *"] }\n', { mode: 0o644 });
    allow = join(dir, 'allow.yaml');
    writeFileSync(allow, 'extends: default\ncommands: { allow: ["ls *", "echo *", "git status", "env *"], deny: ["git push *"] }\n', { mode: 0o644 });
    open = join(dir, 'open.yaml');
    writeFileSync(open, 'extends: default\n', { mode: 0o644 });
  });
  afterAll(() => cleanup());

  const run = (profile: string, argv: readonly string[]): ReturnType<typeof isolate> => isolate(runner, ['run', '-p', profile, '--', ...argv], { cwd: project, env });
  const mark = (): string => `mark-${n++}`;

  it.each(FORMS)('%s: writes MARK without rules, and is refused (126) with MARK not written under "touch *" and "cp *"', (form) => {
    const control = mark();
    const ran = run(open, ['sh', '-c', form.replaceAll('MARK', control).replaceAll('GROUP', group)]);
    expect(ran.status, ran.stderr).toBe(0);
    expect(existsSync(join(project, control)), 'the form does not write its file: the test proves nothing').toBe(true);
    const target = mark();
    const r = run(deny, ['sh', '-c', form.replaceAll('MARK', target).replaceAll('GROUP', group)]);
    expect(existsSync(join(project, target)), 'the denied command ran').toBe(false);
    expect(r.status, r.stderr).toBe(126);
  });

  it('given as argv (no shell): env --u X touch MARK is refused and writes nothing', () => {
    const target = mark();
    const r = run(deny, ['env', '--u', 'X', 'touch', target]);
    expect(existsSync(join(project, target)), 'the denied command ran').toBe(false);
    expect(r.status, r.stderr).toBe(126);
    expect(r.stderr).toContain('deny rule "touch *"');
  });

  it('under an allow list, the word an option takes is not the program: env --u ls touch MARK is refused and writes nothing', () => {
    const [first, second] = [mark(), mark()];
    for (const [argv, target] of [[['env', '--u', 'ls', 'touch', first], first], [['sh', '-c', `env --u ls touch ${second}`], second]] as const) {
      const r = run(allow, argv);
      expect(existsSync(join(project, target)), `${argv.join(' ')}: the command no rule allows ran`).toBe(false);
      expect(r.status, r.stderr).toBe(126);
    }
  });

  it('an option the wrapper does not have: the program cannot be told, so deny rules refuse it (126)', () => {
    const target = mark();
    const r = run(deny, ['sh', '-c', `env --bogus X touch ${target}; touch ${target}`]);
    expect(r.status, r.stderr).toBe(126);
    expect(existsSync(join(project, target))).toBe(false);
    const alone = run(deny, ['env', '--i', 'touch', mark()]);
    expect(alone.status, alone.stderr).toBe(126);
    expect(alone.stderr).toContain('not read by the policy');
  });
});
