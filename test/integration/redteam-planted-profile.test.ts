/**
 * Red team: a profile file in the project, rewritten by the command of an
 * earlier run, widens the next run that uses it. A CI job runs `npm ci`
 * under `default` (the project writable), then its tests with the
 * repository's `.github/isolate-ci.yaml`, as README's workflow does: the
 * install's code rewrote that profile to pass the job's GITHUB_TOKEN by
 * name, to make the directory behind GITHUB_ENV writable, or to give the
 * next run the host's network. The next run printed the token and wrote
 * `NODE_OPTIONS=--require ...` into GITHUB_ENV, which every later step of
 * the job, outside any sandbox, obeys.
 *
 * A profile file an earlier run could have written (inside the project,
 * earlier-runs.ts) may not pass a secret-looking variable by name, choose
 * the host's network, or open a CI job's secret directories; the same
 * profile kept outside the project may, and a harmless one in the project
 * still runs.
 *
 * Written as a failing finding first; it now guards the refusal.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, giveTo, isolate, tempDirFor } from '../helpers/isolate.js';

const TOKEN = 'ghs_rt9PlantedProfileToken0123456789abcd';

describe.each(backendCases('red team: a planted profile'))('red team: a profile an earlier run rewrote ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let commands: string;
  let setEnv: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtpp-'));
    const work = join(dir, 'runner', '_work');
    project = join(work, 'repo', 'repo');
    const temp = join(work, '_temp');
    commands = join(temp, '_runner_file_commands');
    setEnv = join(commands, 'set_env_1');
    mkdirSync(join(project, '.github'), { recursive: true });
    mkdirSync(commands, { recursive: true });
    writeFileSync(setEnv, '');
    mkdirSync(join(dir, 'home', '.config', 'isolate', 'profiles'), { recursive: true });
    giveTo(runner, dir);
    env = { ...backendEnv, HOME: join(dir, 'home'), PATH: DEFAULT_PATH, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_TOKEN: TOKEN, RUNNER_TEMP: temp, GITHUB_ENV: setEnv };
  });
  afterEach(() => cleanup());

  /** The first step: a run under `default` whose command writes `text` as the profile the next step uses. */
  function plant(text: string): void {
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', `printf '%s\\n' "$1" > .github/isolate-ci.yaml && echo planted`, 'sh', text], { cwd: project, env });
    expect(r.stdout, r.stderr).toContain('planted');
  }

  /** What the next step's command does with a wider sandbox: print the token, and append to the file behind GITHUB_ENV (its path is no secret). */
  const steal = (): string => `echo "token=$GITHUB_TOKEN"; echo 'NODE_OPTIONS=--require /tmp/rt9.js' >> '${setEnv}'; true`;

  it.each([
    ['passes the job token by name', 'environment:\n  pass: [GITHUB_TOKEN, GITHUB_ENV]', /environment\.pass: GITHUB_TOKEN/],
    ['makes the directory behind GITHUB_ENV writable', 'filesystem:\n  write: [COMMANDS]', /filesystem\.write\[0\]: .*_runner_file_commands/],
    ['chooses the host network', 'network:\n  mode: host', /network\.mode: host/],
  ])('the next run is refused when the rewritten profile %s: no token, nothing in GITHUB_ENV', (_what, body, names) => {
    plant(`extends: default\n${body.replace('COMMANDS', commands)}`);
    const next = isolate(runner, ['run', '--backend', backend, '-p', './.github/isolate-ci.yaml', '--', 'sh', '-c', steal()], { cwd: project, env });
    expect(next.stdout + next.stderr, 'the job token reached the command').not.toContain(TOKEN);
    expect(readFileSync(setEnv, 'utf8'), 'the command wrote GITHUB_ENV').toBe('');
    expect(next.status, next.stderr).toBe(125);
    expect(next.stderr).toMatch(names);
    expect(next.stderr).toContain('the command of an earlier run could have written it');
  });

  it('a harmless profile in the project still runs; the same widening kept outside the project is the user\'s to choose', () => {
    plant('extends: default\nenvironment:\n  pass: [LANG]');
    const harmless = isolate(runner, ['run', '--backend', backend, '-p', './.github/isolate-ci.yaml', '--', 'true'], { cwd: project, env });
    expect(harmless.status, harmless.stderr).toBe(0);
    const own = join(dir, 'home', '.config', 'isolate', 'profiles', 'ci.yaml');
    writeFileSync(own, 'extends: default\nenvironment:\n  pass: [GITHUB_TOKEN]\n', { mode: 0o644 });
    giveTo(runner, own);
    const chosen = isolate(runner, ['run', '--backend', backend, '-p', 'ci', '--', 'sh', '-c', 'echo "token=$GITHUB_TOKEN"'], { cwd: project, env });
    expect(chosen.status, chosen.stderr).toBe(0);
    expect(chosen.stdout).toContain(`token=${TOKEN}`);
  });
});
