/**
 * CLI entry. The only place that decides the process's exit code; the shim
 * in bin/ sets it. No work happens at import time.
 */
import { readFileSync } from 'node:fs';
import { IsolateError, asIsolateError } from '../errors.js';
import { optionFlag, parseArgs, renderHelp } from './args.js';
import { processOutput, red, type Output } from './output.js';
import { COMMANDS, MAIN_HELP } from './specs.js';

export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  output: Output;
  json: boolean;
  debug: boolean;
  printError(e: { code: string; summary: string; detail?: string; fix?: string }): void;
  printStack(e: Error): void;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const started = process.hrtime.bigint();
  const output = processOutput(env);
  const ctx: CliContext = {
    env,
    output,
    json: false,
    debug: false,
    printError(e) {
      const c = output.color('err');
      let text = `${red(c, 'isolate:')} ${e.summary}\n`;
      if (e.detail !== undefined) text += `  ${e.detail.replace(/\n/g, '\n  ')}\n`;
      if (e.fix !== undefined) text += `  fix: ${e.fix.replace(/\n/g, '\n  ')}\n`;
      output.err(text);
    },
    printStack(e) {
      output.err(`${e.stack ?? ''}\n`);
      if (e.cause !== undefined) output.err(`cause: ${e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause)}\n`);
    },
  };
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      output.out(topic === undefined ? MAIN_HELP : renderHelp(topic));
      return name === undefined ? 125 : 0;
    }
    if (name === '--version' || name === '-V') {
      output.out(`${version()}\n`);
      return 0;
    }
    const spec = COMMANDS.find((c) => c.name === name);
    if (spec === undefined) {
      throw new IsolateError('E_USAGE', `unknown command "${name}"`, { fix: 'commands: run, explain, profiles, doctor (isolate --help)' });
    }
    const parsed = parseArgs(spec, rest);
    ctx.json = optionFlag(parsed, 'json');
    ctx.debug = optionFlag(parsed, 'debug');
    if (optionFlag(parsed, 'help')) {
      output.out(renderHelp(spec));
      return 0;
    }
    switch (spec.name) {
      case 'run':
        return await (await import('./run.js')).runCommand(parsed, ctx);
      case 'explain':
        return await (await import('./explain.js')).explainCommand(parsed, ctx);
      case 'profiles':
        return await (await import('./profiles.js')).profilesCommand(parsed, ctx);
      case 'check':
        return await (await import('./check.js')).checkCommand(parsed, ctx);
      case 'audit':
        return await (await import('./audit.js')).auditCommand(parsed, ctx);
      case 'selftest':
        return await (await import('./selftest.js')).selftestCommand(parsed, ctx);
      default:
        return await (await import('./doctor.js')).doctorCommand(parsed, ctx);
    }
  } catch (caught: unknown) {
    // A bug in isolate is E_INTERNAL: one message like any other; --debug prints its stack.
    const e = asIsolateError(caught);
    if (ctx.json) {
      output.out(`${JSON.stringify({ schemaVersion: 1, kind: 'error', exitCode: e.exitCode, error: e.toJSON() }, null, 2)}\n`);
    } else {
      ctx.printError(e.toJSON());
    }
    if (ctx.debug) ctx.printStack(e);
    return e.exitCode;
  } finally {
    if (ctx.debug) output.err(`isolate: ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms in isolate\n`);
  }
}
