/**
 * The GitHub workflows (.github/workflows/) and the composite Action
 * (action.yml), validated by GitHub's own parser (@actions/workflow-parser,
 * the schema of the Actions language service), then checked for what the
 * schema cannot see: no `${{ }}` expression inside a script (expression
 * injection: an input, a branch name or a title would become shell code),
 * the runners the project promises, and the files the workflows run.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/index';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOWS = `${REPO}.github/workflows`;
const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const read = (path: string): string => readFileSync(path, 'utf8');

function workflowErrors(name: string, content: string): string[] {
  return parseWorkflow({ name, content }, new NoOperationTraceWriter()).context.errors.getErrors().map((e) => e.message);
}

function actionErrors(content: string): string[] {
  return parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter()).context.errors.getErrors().map((e) => e.message);
}

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
  uses?: string;
}

/** Every step of a workflow's jobs, or of a composite action. */
function stepsOf(doc: unknown): Step[] {
  const d = doc as { jobs?: Record<string, { steps?: Step[] }>; runs?: { steps?: Step[] } };
  return [...Object.values(d.jobs ?? {}).flatMap((j) => j.steps ?? []), ...(d.runs?.steps ?? [])];
}

/** Scripts that contain an expression: GitHub substitutes it into the text before the shell reads it. */
function injectable(doc: unknown): string[] {
  return stepsOf(doc)
    .filter((s) => s.run !== undefined && s.run.includes('${{'))
    .map((s) => s.name ?? s.run ?? '');
}

describe('the workflows', () => {
  it('are ci.yml and macos.yml', () => {
    expect(workflowFiles).toEqual(['ci.yml', 'macos.yml']);
  });

  it.each(workflowFiles)('%s is valid for GitHub Actions', (file) => {
    expect(workflowErrors(file, read(`${WORKFLOWS}/${file}`))).toEqual([]);
  });

  it.each(workflowFiles)('%s writes no expression into a script', (file) => {
    expect(injectable(parse(read(`${WORKFLOWS}/${file}`)))).toEqual([]);
  });

  it('run on the Linux and macOS runners the README names', () => {
    const matrix = (file: string): string[] => (parse(read(`${WORKFLOWS}/${file}`)) as { jobs: Record<string, { strategy: { matrix: { os: string[] } } }> }).jobs[file === 'ci.yml' ? 'linux' : 'macos']?.strategy.matrix.os ?? [];
    expect(matrix('ci.yml')).toEqual(['ubuntu-22.04', 'ubuntu-24.04', 'ubuntu-24.04-arm']);
    expect(matrix('macos.yml')).toEqual(['macos-14', 'macos-15']);
    const readme = read(`${REPO}README.md`);
    for (const os of [...matrix('ci.yml'), ...matrix('macos.yml')]) expect(readme).toContain(os);
  });

  it('run files that exist: .ci/run, and the integration tests named for macOS', () => {
    expect(read(`${WORKFLOWS}/ci.yml`)).toContain('bash .ci/run');
    expect(existsSync(`${REPO}.ci/run`)).toBe(true);
    const named = read(`${WORKFLOWS}/macos.yml`).match(/test\/integration\/[\w-]+\.test\.ts/g) ?? [];
    expect(named).toEqual(['test/integration/sandbox-exec-runner.test.ts', 'test/integration/backends.test.ts']);
    for (const f of named) expect(existsSync(`${REPO}${f}`), f).toBe(true);
  });

  it('the Linux job applies exactly the fix isolate doctor prints for AppArmor', () => {
    expect(read(`${WORKFLOWS}/ci.yml`)).toContain('"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0") bash -c "$fix"');
  });
});

describe('the composite Action (action.yml)', () => {
  const text = read(`${REPO}action.yml`);
  const doc = parse(text) as { inputs: Record<string, { required?: boolean; default?: string }>; runs: { using: string; steps: Step[] } };

  it('is valid action metadata', () => {
    expect(actionErrors(text)).toEqual([]);
  });

  it('is composite, with the inputs run (required) and profile (default: default)', () => {
    expect(doc.runs.using).toBe('composite');
    expect(Object.keys(doc.inputs).sort()).toEqual(['profile', 'run']);
    expect(doc.inputs['run']?.required).toBe(true);
    expect(doc.inputs['profile']?.default).toBe('default');
  });

  it('hands its inputs to scripts only through the environment', () => {
    expect(injectable(doc)).toEqual([]);
    const envValues = doc.runs.steps.flatMap((s) => Object.values(s.env ?? {}));
    expect(envValues).toContain('${{ inputs.run }}');
    expect(envValues).toContain('${{ inputs.profile }}');
    expect(text.match(/\$\{\{ inputs\./g)).toHaveLength(2);
    // The profile is isolate's own --profile variable: it is never an argument of the script at all.
    const run = doc.runs.steps.find((s) => s.env?.['ISOLATE_PROFILE'] !== undefined);
    expect(run?.env?.['ISOLATE_PROFILE']).toBe('${{ inputs.profile }}');
    expect(run?.run).toBe('node "$ISOLATE_ACTION_PATH/bin/isolate.js" run -- bash -c "$ISOLATE_ACTION_RUN"');
  });
});

describe('the checks themselves', () => {
  it('the validator refuses what GitHub would refuse', () => {
    expect(workflowErrors('bad.yml', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n').join('\n')).toMatch(/stepz/);
    expect(actionErrors('name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo\n').join('\n')).toMatch(/shell/);
  });

  it('an input written into a script is found', () => {
    const bad = parse('runs:\n  using: composite\n  steps:\n    - name: unsafe\n      shell: bash\n      run: echo "${{ inputs.run }}"\n');
    expect(injectable(bad)).toEqual(['unsafe']);
    const badJob = parse('on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ github.head_ref }}\n');
    expect(injectable(badJob)).toEqual(['echo ${{ github.head_ref }}']);
  });
});
