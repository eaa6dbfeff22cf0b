/**
 * A small declarative argv parser. isolate starts a sandbox in well under
 * the time Node takes to load a general CLI framework, so the command table
 * here is the whole parser; help text is generated from the same table.
 */
import { IsolateError } from '../errors.js';

export interface OptionSpec {
  long: string;
  short?: string;
  /** Name of the value, e.g. `path`; absent for flags. */
  value?: string;
  repeatable?: boolean;
  choices?: readonly string[];
  help: string;
}

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  options: readonly OptionSpec[];
  /** Positional arguments: `command` takes everything after the options (or after `--`). */
  positionals: 'none' | 'command' | 'some';
}

export interface Parsed {
  options: Record<string, string | string[] | boolean>;
  positionals: string[];
}

function usageError(cmd: CommandSpec, message: string): IsolateError {
  return new IsolateError('E_USAGE', message, { fix: `usage: ${cmd.usage}  (see isolate ${cmd.name} --help)` });
}

export function parseArgs(cmd: CommandSpec, argv: readonly string[]): Parsed {
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  const byLong = new Map(cmd.options.map((o) => [o.long, o]));
  const byShort = new Map(cmd.options.filter((o) => o.short !== undefined).map((o) => [o.short as string, o]));
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      options['help'] = true;
      i++;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      let name: string;
      let inline: string | undefined;
      let spec: OptionSpec | undefined;
      if (arg.startsWith('--')) {
        const eq = arg.indexOf('=');
        name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
        inline = eq === -1 ? undefined : arg.slice(eq + 1);
        spec = byLong.get(name);
      } else {
        name = arg.slice(1, 2);
        inline = arg.length > 2 ? arg.slice(2) : undefined;
        spec = byShort.get(name);
      }
      if (spec === undefined) throw usageError(cmd, `unknown option ${arg}`);
      if (spec.value === undefined) {
        if (inline !== undefined) throw usageError(cmd, `--${spec.long} takes no value`);
        options[spec.long] = true;
        i++;
        continue;
      }
      let value = inline;
      if (value === undefined) {
        value = argv[i + 1];
        if (value === undefined) throw usageError(cmd, `--${spec.long} needs a value <${spec.value}>`);
        i++;
      }
      if (spec.choices !== undefined && !spec.choices.includes(value)) {
        throw usageError(cmd, `--${spec.long}: expected one of ${spec.choices.join(', ')}, received "${value}"`);
      }
      if (spec.repeatable === true) {
        const prev = options[spec.long];
        options[spec.long] = [...(Array.isArray(prev) ? prev : []), value];
      } else {
        options[spec.long] = value;
      }
      i++;
      continue;
    }
    if (cmd.positionals === 'command') {
      // The command starts at the first non-option: everything after it is its own.
      positionals.push(...argv.slice(i));
      break;
    }
    if (cmd.positionals === 'none') throw usageError(cmd, `unexpected argument "${arg}"`);
    positionals.push(arg);
    i++;
  }
  return { options, positionals };
}

export function optionString(p: Parsed, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function optionList(p: Parsed, name: string): string[] | undefined {
  const v = p.options[name];
  return Array.isArray(v) ? v : undefined;
}

export function optionFlag(p: Parsed, name: string): boolean {
  return p.options[name] === true;
}

export function renderHelp(cmd: CommandSpec): string {
  const lines = [`usage: ${cmd.usage}`, '', cmd.summary, ''];
  if (cmd.options.length > 0) {
    lines.push('options:');
    const left = cmd.options.map((o) => {
      const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${o.long}`;
      return o.value === undefined ? flag : `${flag} <${o.value}>`;
    });
    const width = Math.max(...left.map((l) => l.length)) + 2;
    cmd.options.forEach((o, idx) => {
      const more = [o.repeatable === true ? '(repeatable)' : '', o.choices ? `[${o.choices.join('|')}]` : ''].filter(Boolean).join(' ');
      lines.push(`  ${(left[idx] ?? '').padEnd(width)}${o.help}${more === '' ? '' : ` ${more}`}`);
    });
  }
  return lines.join('\n') + '\n';
}
