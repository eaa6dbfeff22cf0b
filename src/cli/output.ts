/**
 * Every write isolate makes to stdout or stderr goes through here. Colour is
 * decided per stream: only on a TTY, never with NO_COLOR or TERM=dumb.
 */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  color(stream: 'out' | 'err'): boolean;
}

export function useColor(stream: NodeJS.WriteStream, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

export function processOutput(env: Readonly<Record<string, string | undefined>>): Output {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    color: (stream) => useColor(stream === 'out' ? process.stdout : process.stderr, env),
  };
}

export function paint(on: boolean, code: number, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const bold = (on: boolean, t: string): string => paint(on, 1, t);
export const red = (on: boolean, t: string): string => paint(on, 31, t);
export const yellow = (on: boolean, t: string): string => paint(on, 33, t);
export const green = (on: boolean, t: string): string => paint(on, 32, t);
export const dim = (on: boolean, t: string): string => paint(on, 2, t);
