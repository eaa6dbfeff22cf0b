/**
 * commander's side of the contract: its output goes through isolate's output
 * module, its help is styled like the rest of isolate, and every usage error
 * it finds becomes an E_USAGE IsolateError (exit 125) naming the fix.
 * commander never exits the process: exitOverride throws instead.
 */
import type { Command, CommanderError } from 'commander';
import { IsolateError } from '../errors.js';
import type { Output } from './output.js';
import { allCommands } from './program.js';

/** What commander printed and how the process exits: help and --version 0; help because a subcommand is missing 125. */
export function shownExitCode(e: CommanderError): number {
  return e.exitCode === 0 ? 0 : 125;
}

const SHOWN = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** `isolate audit show`: the command as typed. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** commander's message ("error: unknown option '--x'\n(Did you mean --y?)") as an IsolateError with the fix. */
export function usageError(e: CommanderError, cmd: Command): IsolateError {
  const [first = '', ...rest] = e.message.split('\n');
  const summary = first.replace(/^error: /, '');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join('\n'))?.[1];
  const path = commandPath(cmd);
  let fix: string;
  const envVar = /from env '([^']+)'/.exec(first)?.[1];
  if (suggestion !== undefined) fix = `did you mean ${suggestion}? (${path} --help)`;
  else if (envVar !== undefined) fix = `set ${envVar} to one of the choices, or unset it`;
  else if (e.code === 'commander.unknownCommand') fix = `commands: ${cmd.commands.map((c) => c.name()).join(', ')} (${path} --help)`;
  else fix = `usage: ${path} ${cmd.usage()}  (${path} --help)`;
  return new IsolateError('E_USAGE', summary, { fix, cause: e });
}

/** Route output, help style and errors of every command in the tree. */
export function configureProgram(program: Command, output: Output): void {
  for (const cmd of allCommands(program)) {
    cmd.configureOutput({
      writeOut: (text) => output.out(text),
      writeErr: (text) => output.err(text),
      outputError: () => undefined, // main prints the IsolateError usageError returns
      getOutHasColors: () => output.color('out'),
      getErrHasColors: () => output.color('err'),
    });
    cmd.configureHelp({
      styleTitle: (title) => output.style('out').bold(title.toLowerCase()), // commander strips it for a stream without colour
      subcommandTerm: (sub) => `${sub.name()} ${sub.usage()}`,
    });
    cmd.exitOverride((e) => {
      throw SHOWN.has(e.code) ? e : usageError(e, cmd);
    });
  }
}
