/**
 * The set-up of a test of what a command may write in its project: a home
 * owned by the runner with `project/` in it, made before each test and
 * removed after it, and `run(script)`: `isolate run --json` of a shell
 * script there under the case's backend. The project's fields are the
 * current test's.
 */
import { afterEach, beforeEach } from 'vitest';
import { homeWithProject, isolate, type Project, type Result, type Runner } from './isolate.js';

export function projectRuns(runner: Runner, backend: string, backendEnv: Record<string, string>): { p: Project; run: (script: string) => Result } {
  const p: Project = { home: '', project: '', env: {}, cleanup: () => undefined };
  beforeEach(() => {
    Object.assign(p, homeWithProject(runner));
  });
  afterEach(() => p.cleanup());
  const run = (script: string): Result => isolate(runner, ['run', '--json', '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });
  return { p, run };
}
