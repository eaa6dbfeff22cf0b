/** A `dev` run that reads other repositories' git configurations: judged by the tokens it printed (the home-walk red team). */
import { expect } from 'vitest';
import { isolate, type Project, type Result, type Runner } from './isolate.js';

/**
 * Run `script` under `dev` from the project; no token `leaked` finds may be printed. nsjail, which cannot show a file
 * without its credentials, must refuse (125); any other backend must run it. The result, or undefined when refused.
 */
export function devRunPrintsNoToken(runner: Runner, backend: string, backendEnv: Record<string, string>, p: Project, script: string, leaked: (text: string) => string[]): Result | undefined {
  const r = isolate(runner, ['run', '--profile', 'dev', '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });
  expect(leaked(r.stdout + r.stderr), 'a token the sandbox printed').toEqual([]);
  if (backend === 'nsjail') {
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('holds a credential');
    return undefined;
  }
  expect(r.status, r.stderr).toBe(0);
  return r;
}
