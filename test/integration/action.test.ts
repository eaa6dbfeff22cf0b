/**
 * The composite Action's run step (action.yml), as GitHub runs it: its
 * script under bash, with the step's environment, where each `${{ inputs.X }}`
 * has become the input's value, never part of the script. Run through the
 * real sandbox, as each runner. The attack: an input that would be shell
 * code if it were written into the script.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectSite, runners, type Runner } from '../helpers/isolate.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

const action = parse(readFileSync(join(REPO, 'action.yml'), 'utf8')) as { runs: { steps: Step[] } };
const runStep = action.runs.steps.find((s) => s.name === 'Run the command in the sandbox');

/** The step's environment as GitHub evaluates it: each expression replaced by its value, as a value. */
function stepEnv(step: Step, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(step.env ?? {}).map(([name, template]) => {
      const m = /^\$\{\{ ([\w.]+) \}\}$/.exec(template);
      if (m === null || !((m[1] ?? '') in values)) throw new Error(`unexpected env template ${name}: ${template}`);
      return [name, values[m[1] ?? ''] ?? ''];
    }),
  );
}

describe.each(runners())('the Action\'s run step ($label)', (runner: Runner) => {
  const packageDir = dirname(dirname(runner.bin));

  function step(inputs: { run: string; profile: string }, secret = 'ghp_actionsecret1234567890'): { status: number | null; out: string; dir: string; home: string; cleanup: () => void } {
    if (runStep?.run === undefined) throw new Error('action.yml has no run step');
    const t = projectSite(runner, 'isolate-action-');
    const home = t.env['HOME'] ?? '';
    const env = {
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: home,
      XDG_STATE_HOME: runner.stateDir,
      GITHUB_TOKEN: secret,
      ...stepEnv(runStep, { 'github.action_path': packageDir, 'inputs.profile': inputs.profile, 'inputs.run': inputs.run }),
    };
    const r = spawnSync(runner.prefix[0] ?? 'bash', [...runner.prefix.slice(1), ...(runner.prefix.length > 0 ? ['bash'] : []), '-c', runStep.run], { cwd: t.project, env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    return { status: r.status, out: `${r.stdout}${r.stderr}`, dir: t.project, home, cleanup: t.cleanup };
  }

  it('runs the command in the sandbox with the profile: the exit code is the command\'s, the job\'s secrets stay out', () => {
    const r = step({ run: 'echo "in-sandbox as $(id -un)"; echo "token=${GITHUB_TOKEN:-none}"; exit 7', profile: 'strict' });
    try {
      expect(r.status, r.out).toBe(7);
      expect(r.out).toContain('in-sandbox as');
      expect(r.out).toContain('token=none');
      expect(r.out).not.toContain('actionsecret');
    } finally {
      r.cleanup();
    }
  });

  it('an input that would be shell code in the script is only a value: a hostile profile name is refused (125), nothing runs', () => {
    const marker = 'pwned-by-profile-input';
    const r = step({ run: 'true', profile: `default"; touch ${marker}; echo "` });
    try {
      expect(r.status, r.out).toBe(125);
      expect(existsSync(join(r.dir, marker))).toBe(false);
    } finally {
      r.cleanup();
    }
  });

  it('the command is the sandbox\'s: what it writes outside the project does not reach the host', () => {
    const r = step({ run: 'mkdir -p "$HOME" && touch "$HOME/written-by-command" && echo wrote; echo done', profile: 'default' });
    try {
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('done');
      // The home directory is private in the default profile: the host's is not even created.
      expect(existsSync(join(r.home, 'written-by-command'))).toBe(false);
    } finally {
      r.cleanup();
    }
  });
});
