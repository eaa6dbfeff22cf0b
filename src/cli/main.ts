/**
 * CLI entry. The only place that decides the process's exit code; the shim
 * in bin/ sets it and exits. No work happens at import time.
 */
import { CommanderError } from 'commander';
import { asIsolateError } from '../errors.js';
import { createContext, type CliContext } from './context.js';
import { processOutput } from './output.js';
import { buildProgram, invocationOf, type Dispatch } from './program.js';
import { configureProgram, shownExitCode } from './usage.js';
import { version } from './version.js';

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
}

/**
 * Run the CLI with `argv` (without node and the script). Options' environment
 * defaults (ISOLATE_PROFILE, ISOLATE_BACKEND) and the caller environment both
 * come from process.env.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const started = process.hrtime.bigint();
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
