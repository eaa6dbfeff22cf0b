/**
 * Plan.launch.runDir: a directory run/ creates for one run (mode 0700; it
 * must not exist yet, so a directory someone else placed there is never
 * used) with the private directories that stand in for tmpfs paths (0700),
 * and removes with everything in it after the run, however the run ends
 * (remove-tree.ts).
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LaunchPlan } from '../backends/types.js';
import { IsolateError, errnoCode, isIsolateError } from '../errors.js';
import { removeTree } from './remove-tree.js';
import type { ExecuteResult } from './result.js';

type RunDir = NonNullable<LaunchPlan['runDir']>;

function setupError(summary: string, e?: unknown): IsolateError {
  if (isIsolateError(e)) return e;
  return new IsolateError('E_SANDBOX_SETUP', summary, {
    ...(e === undefined ? {} : { detail: errnoCode(e) ?? String(e), cause: e }),
    fix: 'check that the temporary directory ($TMPDIR) is writable, then run again',
  });
}

function createFresh(path: string): void {
  if (!path.startsWith('/') || path === '/') throw setupError(`the run directory ${path} is not an absolute path`);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (e: unknown) {
    if (errnoCode(e) === 'EEXIST') {
      throw new IsolateError('E_SANDBOX_SETUP', `the run directory ${path} exists already; isolate uses only a directory it has just created`, {
        fix: 'run again (each run picks a new name); if it keeps happening, something is creating these directories',
      });
    }
    throw setupError(`cannot create the run directory ${path}`, e);
  }
}

/** Create the run directory and its private directories, or throw (exit 125) with nothing left behind. */
export function createRunDirs(spec: RunDir): void {
  const runDir = spec.path;
  createFresh(runDir);
  try {
    // The umask may have taken bits off; it cannot have added any.
    chmodSync(runDir, 0o700);
    for (const dir of spec.dirs) {
      if (dirname(dir) !== runDir) throw setupError(`the private directory ${dir} is not directly inside the run directory ${runDir}`);
      mkdirSync(dir, { mode: 0o700 });
      chmodSync(dir, 0o700);
    }
  } catch (e: unknown) {
    removeTree(runDir, { quiet: true });
    throw setupError(`cannot create the private directories in ${runDir}`, e);
  }
}

/**
 * Whether the sandbox may write `path`: whether one of the paths it may
 * write contains it. An over-estimate (a deeper read, deny or protect rule
 * may take the write back), which only makes the removal more careful.
 */
export function runDirWritable(path: string, sandboxWrites: readonly string[]): boolean {
  return sandboxWrites.some((w) => path === w || path.startsWith(w === '/' ? '/' : `${w}/`));
}

/** Run `run` between creating the plan's run directory and removing it; what could not be removed is said in leftBehind. */
export async function withRunDir(launch: LaunchPlan | undefined, run: () => Promise<ExecuteResult>): Promise<ExecuteResult> {
  const spec = launch?.runDir;
  if (spec === undefined) return run();
  createRunDirs(spec);
  let left: string | undefined;
  let result: ExecuteResult;
  try {
    result = await run();
  } finally {
    left = removeTree(spec.path, { sandboxMayWrite: (renamedTo) => runDirWritable(renamedTo, spec.sandboxWrites) });
  }
  // Said in the report (and by the CLI), never silently: the directory holds what the command wrote to its stand-ins.
  return left === undefined ? result : { ...result, leftBehind: { path: spec.path, reason: left } };
}
