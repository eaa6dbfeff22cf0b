/** What every command gets: the caller's environment, the output, and isolate's error format. */
import type { Output } from './output.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface CliContext {
  env: Env;
  output: Output;
  json: boolean;
  debug: boolean;
  /** `isolate: <summary>`, then `  <detail>` and `  fix: <fix>`, on stderr. */
  printError(e: { code: string; summary: string; detail?: string; fix?: string }): void;
  printStack(e: Error): void;
}

const indent = (text: string): string => text.replace(/\n/g, '\n  ');

export function createContext(env: Env, output: Output): CliContext {
  return {
    env,
    output,
    json: false,
    debug: false,
    printError(e) {
      let text = `${output.style('err').red('isolate:')} ${e.summary}\n`;
      if (e.detail !== undefined) text += `  ${indent(e.detail)}\n`;
      if (e.fix !== undefined) text += `  fix: ${indent(e.fix)}\n`;
      output.err(text);
    },
    printStack(e) {
      output.err(`${e.stack ?? ''}\n`);
      if (e.cause !== undefined) output.err(`cause: ${e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause)}\n`);
    },
  };
}
