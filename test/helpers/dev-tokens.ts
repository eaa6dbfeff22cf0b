/** Runs that read git configurations holding tokens: judged by the tokens they printed (the git-credential red teams). */
import { expect } from 'vitest';
import { isolate, type Project, type Result, type Runner } from './isolate.js';

/**
 * No token `leaked` finds was printed; nsjail, which cannot show a file without its credentials, refused (125);
 * any other backend ran the command. False: refused, nothing more to look at.
 */
export function printedNoToken(r: Result, backend: string, leaked: (text: string) => string[]): boolean {
  expect(leaked(r.stdout + r.stderr), 'a token the sandbox printed').toEqual([]);
  if (backend === 'nsjail') {
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('holds a credential');
    return false;
  }
  expect(r.status, r.stderr).toBe(0);
  return true;
}

/** Run `script` under `dev` from the project, judged by printedNoToken: the result, or undefined when refused. */
export function devRunPrintsNoToken(runner: Runner, backend: string, backendEnv: Record<string, string>, p: Project, script: string, leaked: (text: string) => string[]): Result | undefined {
  const r = isolate(runner, ['run', '--profile', 'dev', '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });
  return printedNoToken(r, backend, leaked) ? r : undefined;
}
