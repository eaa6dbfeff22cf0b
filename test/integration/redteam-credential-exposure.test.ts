/**
 * Red team: where a credential's REAL value could reach the sandbox, or a
 * file isolate writes, by a way other than the proxy.
 *
 * The caller's shell expands `"$TOKEN"` before isolate sees the command
 * (`isolate run --credential TOKEN@host -- curl -H "Authorization: Bearer
 * $TOKEN" ...`, a slip anyone makes): the command got the real value as an
 * argument, and the audit log and the run report recorded it (a token of no
 * well-known shape is not redacted there).
 *
 * Another variable holding the same value (CI sets GH_TOKEN and GITHUB_TOKEN
 * to one token), passed by `--env`, `environment.pass` or a wildcard: the
 * credential's own variable held the placeholder, the other one the value.
 *
 * A credential command that prints the value and then fails, saying so on
 * its stderr (`token <value> expired`): isolate quoted that line in its
 * error, which went to the audit log, the run report, and an MCP client.
 *
 * Each was written as a failing finding first; they now guard
 * run/credential-exposure.ts and the quoting in run/credential-sources.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { filesUnder } from '../helpers/credential-site.js';
import { DEFAULT_PATH, giveTo, isolate, tempDirFor } from '../helpers/isolate.js';

/** A token of no well-known shape (a vault's, an internal service's): the audit log's redaction of token shapes does not know it. */
const VALUE = 'Zq8mRt27PlainVaultTok3nNoShape';

describe.each(backendCases('red team: a credential value outside the proxy'))('red team: a credential value outside the proxy ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let home: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtx-'));
    home = join(dir, 'home');
    project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    mkdirSync(join(home, '.config', 'isolate', 'profiles'), { recursive: true });
    giveTo(runner, dir);
    env = { ...backendEnv, HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(home, 'state'), RT_TOKEN: VALUE };
  });
  afterEach(() => cleanup());

  const base = ['--backend', backend, '--allow-domain', 'example.com', '--credential', 'RT_TOKEN@example.com'];

  /** Every file isolate wrote in the home (its audit log, the report) and what it printed: none may hold the value. */
  function expectNowhere(out: { stdout: string; stderr: string }): void {
    expect(out.stdout + out.stderr, 'isolate printed the value').not.toContain(VALUE);
    const holding = filesUnder(home).filter((f) => f.text.includes(VALUE) && !f.path.endsWith('.yaml') && !f.path.endsWith('mint'));
    expect(holding.map((f) => f.path), 'a file isolate wrote holds the value').toEqual([]);
  }

  it('a command word the caller\'s shell expanded to the value is refused before the command starts, and recorded without it', () => {
    const marker = join(project, 'ran');
    const report = join(home, 'report.json');
    const r = isolate(runner, ['run', '--report', report, ...base, '--', 'sh', '-c', `touch ${marker}; echo "got: $1"`, 'sh', VALUE], { cwd: project, env });
    expect(r.stdout, 'the command received the real value as an argument').not.toContain(VALUE);
    expect(existsSync(marker), 'the command ran').toBe(false);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('word 4 of the command holds the value of credential RT_TOKEN');
    expect(readFileSync(report, 'utf8')).toContain('<RT_TOKEN>');
    expectNowhere(r);
  });

  it('another variable holding the value (--env, a set value, a wildcard of the profile) is refused before the command starts', () => {
    writeFileSync(join(home, '.config', 'isolate', 'profiles', 'wild.yaml'), 'extends: default\nenvironment: {pass: ["COPY_*"]}\n', { mode: 0o644 });
    giveTo(runner, dir);
    const marker = join(project, 'ran');
    const cases: [string[], Record<string, string>, string][] = [
      [['--env', 'GH_TOKEN'], { GH_TOKEN: VALUE }, 'the variable GH_TOKEN holds the value of credential RT_TOKEN'],
      [['--env', `EXTRA=x-${VALUE}`], {}, 'the variable EXTRA holds the value of credential RT_TOKEN'],
      [['-p', 'wild'], { COPY_OF_IT: VALUE }, 'the variable COPY_OF_IT holds the value of credential RT_TOKEN'],
    ];
    for (const [args, more, message] of cases) {
      const r = isolate(runner, ['run', ...args, ...base, '--', 'sh', '-c', `touch ${marker}; env`], { cwd: project, env: { ...env, ...more } });
      expect(r.stdout, `${args.join(' ')}: the command's environment held the real value`).not.toContain(VALUE);
      expect(existsSync(marker), `${args.join(' ')}: the command ran`).toBe(false);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toContain(message);
      expectNowhere(r);
    }
  });

  it('a credential command that fails after printing the value, and names it on its stderr: the error quotes no value', () => {
    const mint = join(home, 'mint');
    writeFileSync(mint, `#!/bin/sh\necho ${VALUE}\necho "error: token ${VALUE} is expired" >&2\nexit 3\n`, { mode: 0o755 });
    writeFileSync(join(home, '.config', 'isolate', 'profiles', 'cmd.yaml'), `extends: default\nnetwork: {mode: filtered, allow: [example.com]}\ncredentials:\n  - {name: RT_TOKEN, from: {command: [${mint}]}, hosts: [example.com]}\n`, { mode: 0o644 });
    giveTo(runner, dir);
    const report = join(home, 'report.json');
    const r = isolate(runner, ['run', '--backend', backend, '--report', report, '-p', 'cmd', '--', 'true'], { cwd: project, env: { ...env, RT_TOKEN: '' } });
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('the command failed (exit 3): error: token <redacted> is expired');
    expect(readFileSync(report, 'utf8')).toContain('the command failed (exit 3)');
    expectNowhere(r);
  });

  it('control: the variable of the credential holds the placeholder, and a command that names it unexpanded runs', () => {
    const r = isolate(runner, ['run', ...base, '--', 'sh', '-c', 'echo "got: $RT_TOKEN"'], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^got: [A-Za-z0-9]{30}\n$/);
    expectNowhere(r);
  });
});
