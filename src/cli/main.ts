/**
 * CLI entry. The only place that decides the process's exit code; the shim
 * in bin/ sets it and exits. No work happens at import time.
 */
import { CommanderError } from 'commander';
import { asIsolateError } from '../errors.js';
import { createContext, type CliContext } from './context.js';
import { createOutput, processOutput } from './output.js';
import { buildProgram, invocationOf, type Dispatch } from './program.js';
import { configureProgram, shownExitCode } from './usage.js';
import { version } from './version.js';
import { deferOptimizer } from '../tiering.js';

export type { CliContext } from './context.js';
export { usePackageRoot } from '../profile/builtin.js';

function printFailure(caught: unknown, ctx: CliContext): number {
  // A bug in isolate is E_INTERNAL: one message like any other; --debug prints its stack.
  const e = asIsolateError(caught);
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify({ schemaVersion: 1, kind: 'error', exitCode: e.exitCode, error: e.toJSON() }, null, 2)}\n`);
  } else {
    ctx.printError(e.toJSON());
  }
  if (ctx.debug) ctx.printStack(e);
  return e.exitCode;
}

/**
 * Initialise the modules a run loads on demand (the run command, and through
 * the API this platform's backends and the filtered network's proxy), for
 * the start-up snapshot (bin/isolate.js), so that they are part of it. It
 * loads code only: a snapshot must hold nothing of the machine or the user
 * that built it.
 */
export async function loadRunPath(): Promise<void> {
  const [, api] = await Promise.all([import('./run.js'), import('../index.js')]);
  await api.loadRunModules();
  await warmArguments();
  await api.warmRunPath();
}

/** A made-up caller's environment for the warm-up (nothing of the machine that builds the snapshot). */
const WARM_ENV = { PATH: '/usr/bin:/bin', HOME: '/home/user', TERM: 'dumb' };

/**
 * Part of loadRunPath: parse a run's and a filtered run's arguments as a run does, up to the options it hands the API,
 * so that the snapshot holds the parser's compiled code. The output goes nowhere; the command's handler is not called.
 */
async function warmArguments(): Promise<void> {
  const discard = { isTTY: false, write: () => true };
  const output = await createOutput({ out: discard, err: discard }, WARM_ENV);
  const ctx = createContext(WARM_ENV, output);
  const { sandboxOptions, commandOf } = await import('./common.js');
  const dispatch: Dispatch = async (cmd) => {
    const inv = invocationOf(cmd);
    sandboxOptions(inv, ctx.env);
    commandOf(inv);
  };
  for (const argv of [
    ['run', '--profile', 'default', '--', 'true'],
    ['run', '--net', 'filtered', '--allow-domain', 'example.test', '--json', '--', 'sh', '-c', 'true'],
  ]) {
    const program = buildProgram('0.0.0', dispatch, argv[0]);
    configureProgram(program, ctx.output);
    await program.parseAsync(argv, { from: 'user' });
  }
}

/**
 * Run the CLI with `argv` (without node and the script). Options' environment
 * defaults (ISOLATE_PROFILE, ISOLATE_BACKEND) and the caller environment both
 * come from process.env.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const started = process.hrtime.bigint();
  deferOptimizer();
  const ctx = createContext(process.env, await processOutput(process.env));
  let code = 0;
  const dispatch: Dispatch = async (cmd, load) => {
    const inv = invocationOf(cmd);
    ctx.json = inv.options['json'] === true;
    ctx.debug = inv.options['debug'] === true;
    code = await (await load())(inv, ctx);
  };
  try {
    const program = buildProgram(version(), dispatch, argv[0]);
    configureProgram(program, ctx.output);
    if (argv.length === 0) {
      // No command at all: the usage, as a failure.
      program.outputHelp();
      return 125;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (caught: unknown) {
    if (caught instanceof CommanderError) return shownExitCode(caught);
    return printFailure(caught, ctx);
  } finally {
    if (ctx.debug) ctx.output.err(`isolate: ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms in isolate\n`);
  }
}
