/**
 * `isolate explain` refuses what `isolate run` refuses for the same
 * directory and profile, with the same message: a user checks a profile
 * with explain before a run, and one that explain passes must not be
 * refused by the run for a reason explain could have seen. Here: the CA
 * file network.upstreamCa names (read when a credential needs it) missing
 * or holding no certificate, a credential command's program inside the
 * project, where a command could have put its own, and isolate's runtime
 * directory (where a run registers the placeholders of its protected
 * names) that cannot be made. Temp dirs only.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, runners, tempDirFor, DEFAULT_PATH, type Result } from '../helpers/isolate.js';

/** isolate's message: its first line. */
const firstLine = (r: Result): string => r.stderr.split('\n').find((l) => l.startsWith('isolate: ')) ?? '';

describe.each(runners())('explain refuses as run does ($label)', (runner) => {
  let dir: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-explain-refusals-'));
    mkdirSync(join(dir, 'home', '.config', 'isolate', 'profiles'), { recursive: true });
    mkdirSync(join(dir, 'project'));
    env = { HOME: join(dir, 'home'), PATH: DEFAULT_PATH, RT_TOKEN: 'rt9-legit-token-value' };
  });
  afterEach(() => cleanup());

  /** A profile whose credential's host is verified against the CA file `ca`, its value read from `from`. */
  function caProfile(ca: string | undefined, from = '{env: RT_TOKEN}'): void {
    const network = ca === undefined ? '{mode: filtered}' : `{mode: filtered, upstreamCa: ${JSON.stringify(ca)}}`;
    writeFileSync(
      join(dir, 'home', '.config', 'isolate', 'profiles', 'ca.yaml'),
      `extends: default\nnetwork: ${network}\ncredentials:\n  - {name: RT_TOKEN, from: ${from}, hosts: [example.com]}\n`,
    );
    giveTo(runner, dir);
  }
  const both = (): [Result, Result] =>
    [isolate(runner, ['run', '-p', 'ca', '--', 'true'], { cwd: join(dir, 'project'), env }), isolate(runner, ['explain', '-p', 'ca', '--', 'true'], { cwd: join(dir, 'project'), env })];

  it('network.upstreamCa missing, or holding no PEM certificate: both refuse, with the same message', () => {
    const bad = join(dir, 'bad.pem');
    writeFileSync(bad, 'not a certificate\n');
    for (const [ca, says] of [[join(dir, 'missing.pem'), 'cannot read'], [bad, 'holds no PEM certificate']] as const) {
      caProfile(ca);
      const [run, explain] = both();
      expect(run.status, run.stderr).toBe(125);
      expect(firstLine(run)).toContain(says);
      expect(explain.status, explain.stderr).toBe(125);
      expect(firstLine(explain)).toBe(firstLine(run));
    }
  }, 60_000);

  it('a credential command whose program is inside the project: both refuse, with the same message, and neither runs it', () => {
    const program = join(dir, 'project', 'mint-token');
    const ran = join(dir, 'minted');
    writeFileSync(program, `#!/bin/sh\ntouch ${JSON.stringify(ran)}\necho rt9-minted-token-value\n`, { mode: 0o755 });
    caProfile(undefined, `{command: [${JSON.stringify(program)}]}`);
    const [run, explain] = both();
    expect(run.status, run.stderr).toBe(125);
    expect(firstLine(run)).toContain(`its program ${program} is inside a path the sandbox can write`);
    expect(explain.status, explain.stderr).toBe(125);
    expect(firstLine(explain)).toBe(firstLine(run));
    expect(existsSync(ran), 'the program ran').toBe(false);
  }, 60_000);

  it('isolate\'s runtime directory cannot be made (its state directory is under a file): both refuse, with the same message', () => {
    writeFileSync(join(dir, 'file'), '');
    giveTo(runner, dir);
    const broken = { ...env, XDG_STATE_HOME: join(dir, 'file', 'state') };
    const [run, explain] = [isolate(runner, ['run', '--', 'true'], { cwd: join(dir, 'project'), env: broken }), isolate(runner, ['explain', '--', 'true'], { cwd: join(dir, 'project'), env: broken })];
    expect(run.status, run.stderr).toBe(125);
    expect(firstLine(run)).toContain(`isolate's runtime directory ${join(dir, 'file', 'state', 'isolate', 'run')}`);
    expect(firstLine(run)).not.toContain('internal error');
    expect(explain.status, explain.stderr).toBe(125);
    expect(firstLine(explain)).toBe(firstLine(run));
  }, 60_000);
});
