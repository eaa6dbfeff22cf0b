import { CONTROL, CONTROL_BUT_NEWLINE } from '../errors.js';

/** Quote one argument for a POSIX shell so a printed command line can be pasted. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_\-+=.,:/@%^]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}

/**
 * Quote one argument for bash, for a command line isolate prints (explain):
 * as shellQuote, with each control character written as bash's $'\xHH'
 * (or $'\uHHHH') between the single-quoted pieces, so that a path or a
 * value with an escape sequence or a newline can neither reach the terminal
 * nor start a line of its own, and the line still pastes as it runs.
 * `newlines: true` keeps newlines as they are (a generated config's lines).
 */
export function bashQuote(arg: string, options: { newlines?: boolean } = {}): string {
  return shellQuote(arg).replace(options.newlines === true ? CONTROL_BUT_NEWLINE : CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x80 ? `'$'\\x${code.toString(16).padStart(2, '0')}''` : `'$'\\u${code.toString(16).padStart(4, '0')}''`;
  });
}

export function bashJoin(args: readonly string[]): string {
  return args.map((a) => bashQuote(a)).join(' ');
}
