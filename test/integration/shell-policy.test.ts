/**
 * The command policy sees what a shell script would run: `isolate check` and
 * `isolate run` given `sh -c '...'`, with the real CLI, as root and as an
 * unprivileged user. A refused script never starts (nothing it would write
 * appears on the host), exits 126, and the audit log says which rule refused it.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolate, projectSite, runners, type Runner } from '../helpers/isolate.js';

interface Check {
  decision: string;
  rule: string | null;
  reason: string;
  subcommand: string[] | null;
  undecidable: Array<{ command: string[]; reason: string }>;
}

/** This machine's dynamic loader, which runs the program it is given (undefined where none of the usual paths has one: the loader test is skipped, said why). */
const LOADER = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1', '/lib/ld-musl-x86_64.so.1', '/lib/ld-musl-aarch64.so.1'].find((p) => existsSync(p));
if (LOADER === undefined) console.warn('the dynamic-loader test is skipped: no loader at the usual paths (/lib64/ld-linux-x86-64.so.2, /lib/ld-linux-aarch64.so.1, musl)');

describe.each(runners())('command policy on shell scripts ($label)', (runner: Runner) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  let strict: string;
  let open: string;
  beforeAll(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-shellpolicy-'));
    strict = join(dir, 'allow.yaml');
    writeFileSync(strict, 'extends: default\ncommands:\n  allow: ["touch *", "git *", "true"]\n  deny: ["git push *", "curl *"]\n');
    open = join(dir, 'deny.yaml');
    writeFileSync(open, 'extends: default\ncommands:\n  deny: ["git push *", "curl *"]\n');
    chmodSync(strict, 0o644);
    chmodSync(open, 0o644);
  });
  afterAll(() => cleanup());

  const cli = (args: string[]): ReturnType<typeof isolate> => isolate(runner, args, { cwd: project, env });
  const checkJson = (profile: string, argv: string[]): { status: number | null; result: Check } => {
    const r = cli(['check', '--json', '-p', profile, '--', ...argv]);
    return { status: r.status, result: JSON.parse(r.stdout) as Check };
  };

  it('check: a denied command anywhere in the script refuses it (126), naming the command and the rule', () => {
    const r = cli(['check', '-p', strict, '--', 'sh', '-c', 'touch a && g\\it push origin main']);
    expect(r.status).toBe(126);
    expect(r.stdout).toContain('the script runs git, which matches deny rule "git push *"');
    expect(r.stdout).toContain("decided by the script's command: git push origin main");
    expect(r.stdout).toContain('not a boundary');
    const j = checkJson(strict, ['/bin/sh', '-c', 'touch a; echo $(command git push)']);
    expect(j).toMatchObject({ status: 126, result: { decision: 'refused', rule: 'git push *', subcommand: ['git', 'push'] } });
  });

  it('check: an allowed script passes (0); an undecidable one is refused with an allow list and reported without', () => {
    expect(cli(['check', '-p', strict, '--', 'bash', '-lc', 'cd . && touch a && git status']).status).toBe(0);
    expect(checkJson(strict, ['sh', '-c', 'x=git; $x push'])).toMatchObject({ status: 126, result: { decision: 'refused', rule: null } });
    const j = checkJson(open, ['sh', '-c', 'x=git; $x push']);
    expect(j).toMatchObject({ status: 0, result: { decision: 'allowed' } });
    expect(j.result.undecidable).toEqual([{ command: ['$x'], reason: 'its program name is computed at run time' }]);
  });

  it('run: a refused script never starts, exits 126, and the audit log names the rule', () => {
    const log = join(dir, `audit-${runner.uid}.jsonl`);
    const r = cli(['run', '-p', strict, '--audit-log', log, '--', 'sh', '-c', 'touch ran-refused; bash -c "git push origin main"']);
    expect(r.status).toBe(126);
    expect(r.stderr).toContain('matches deny rule "git push *"');
    expect(existsSync(join(project, 'ran-refused'))).toBe(false);
    const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { policy?: { decision: string; rule: string | null } });
    expect(records.at(-1)?.policy).toMatchObject({ decision: 'refused', rule: 'git push *' });
  });

  it('run: an allowed script runs in the sandbox; an undecidable one runs only without an allow list', () => {
    expect(cli(['run', '-p', strict, '--', 'sh', '-c', 'touch ran-allowed && true']).status).toBe(0);
    expect(existsSync(join(project, 'ran-allowed'))).toBe(true);
    expect(cli(['run', '-p', strict, '--', 'sh', '-c', 'x=touch; $x ran-undecided']).status).toBe(126);
    expect(existsSync(join(project, 'ran-undecided'))).toBe(false);
    expect(cli(['run', '-p', open, '--', 'sh', '-c', 'x=touch; $x ran-undecided']).status).toBe(0);
    expect(existsSync(join(project, 'ran-undecided'))).toBe(true);
  });

  it.runIf(LOADER !== undefined)('run: a denied program started through the dynamic loader is refused (126) and writes nothing', () => {
    const curl = ['/usr/bin/curl', '-sS', '-o', 'via-loader', 'file:///etc/hostname'];
    const r = cli(['run', '-p', open, '--', LOADER ?? '', ...curl]);
    expect(r.status, r.stderr).toBe(126);
    expect(r.stderr).toContain('matches deny rule "curl *"');
    expect(existsSync(join(project, 'via-loader')), 'curl ran through the loader and wrote its file').toBe(false);
    expect(cli(['run', '-p', open, '--', LOADER ?? '', '--list', '/usr/bin/curl']).status).toBe(0); // control: ldd's use runs no curl
  });
});
