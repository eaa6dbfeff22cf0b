/**
 * Red team: a run by root reads what only root may read. The sandbox has no
 * capabilities, but its uid 0 owns root's files, so the owner's permission
 * bits let it read a root-only file (0600) or enter a root-only directory
 * (0700) under a read-only path the profile shows (/etc, /opt, /usr, ...),
 * unless something hides it. strict's deny list names the known ones; these
 * tests make new ones, as an administrator would (an application's key, a
 * rules directory), in a directory the test makes readable the way strict
 * makes /etc readable. The rule is defined by ownership and mode, not by
 * where the path is, so a temp directory is an honest stand-in for /etc.
 * The user's own project is meant to be read: its root-only files stay
 * readable. Judged by what the command prints.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolate, projectSite } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { SETTLE_MS } from '../../src/host/scan-cache.js';

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const KEY = 'ROOT-ONLY-KEY-5d1e';
const RULE = 'ROOT-ONLY-RULE-8b2c';
const NEW = 'ROOT-ONLY-NEW-0c9a';
const PUBLIC = 'PUBLIC-CONF-3f70';
const OWN = 'PROJECT-OWN-77aa';

const cases = backendCases('red team: root-only files').filter((c) => c.runner.uid === 0);
const WHY_SKIPPED = 'red team: root-only files skipped: the tests do not run as root, and only a run by root owns root-only files';
if (cases.length === 0) console.warn(WHY_SKIPPED);
if (cases.length === 0) describe('red team: root-only files', () => it.skip(WHY_SKIPPED, () => undefined));

describe.each(cases)('red team: root-only files under a read-only path ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  let sys: string;
  let profile: string;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-rootonly-', backendEnv);
    sys = join(site.dir, 'sys');
    mkdirSync(join(sys, 'app'), { recursive: true });
    mkdirSync(join(sys, 'rules.d'), { mode: 0o700 });
    chmodSync(join(sys, 'rules.d'), 0o700);
    writeFileSync(join(sys, 'app/secret.key'), `${KEY}\n`, { mode: 0o600 });
    writeFileSync(join(sys, 'rules.d/10-admin.rules'), `${RULE}\n`, { mode: 0o644 });
    writeFileSync(join(sys, 'app/public.conf'), `${PUBLIC}\n`, { mode: 0o644 });
    writeFileSync(join(site.project, 'own.key'), `${OWN}\n`, { mode: 0o600 });
    profile = join(site.dir, 'sys.yaml');
    writeFileSync(profile, `extends: strict\nfilesystem:\n  read:\n    - ${JSON.stringify(sys)}\n`);
  });
  afterEach(() => site.cleanup());

  // The first run of a state directory searches the system without a cache: give a loaded machine time.
  const run = (cmd: string) => isolate(runner, ['run', '--backend', backend, '-p', profile, '--', 'sh', '-c', cmd], { cwd: site.project, env: site.env, timeoutMs: 60_000 });
  const READ = 'cat "$1"/app/secret.key "$1"/rules.d/10-admin.rules "$1"/app/new.key "$1"/app/public.conf own.key 2>&1; ls "$1"/rules.d 2>&1; true';
  const readAll = () => run(`set -- ${JSON.stringify(sys)}; ${READ}`);

  it('hides root-only files and directories, first run and later ones, and shows the rest and the project', () => {
    for (const round of ['first', 'cached']) {
      const r = readAll();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, `${round}: controls`).toContain(PUBLIC);
      expect(r.stdout, `${round}: the project's own root-only file is the user's`).toContain(OWN);
      expect(r.stdout, `${round}: a root-only file`).not.toContain(KEY);
      expect(r.stdout, `${round}: a file in a root-only directory`).not.toContain(RULE);
      expect(r.stdout, `${round}: a root-only directory's names`).not.toContain('10-admin.rules\n');
    }
  }, 150_000);

  it('a root-only file created after a run that kept the listings is hidden in the next', () => {
    // The directories settle first, so that the first run keeps their listings for the next (src/host/scan-cache.ts).
    sleep(SETTLE_MS + 300);
    expect(readAll().status).toBe(0);
    writeFileSync(join(sys, 'app/new.key'), `${NEW}\n`, { mode: 0o600 });
    const r = readAll();
    expect(r.stdout).toContain(PUBLIC);
    expect(r.stdout).not.toContain(NEW);
  }, 150_000);

  it('explain lists the hidden root-only paths', () => {
    const r = isolate(runner, ['explain', '--backend', backend, '-p', profile, '--', 'true'], { cwd: site.project, env: site.env, timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(sys, 'app/secret.key'));
    expect(r.stdout).toContain(join(sys, 'rules.d'));
    expect(r.stdout).not.toContain(join(sys, 'app/public.conf'));
  }, 90_000);
});
