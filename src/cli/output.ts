/**
 * Every write isolate makes to stdout or stderr goes through here. Colour is
 * decided per stream: only on a TTY, never with NO_COLOR or TERM=dumb, always
 * with FORCE_COLOR (other than 0). Styles come from chalk, one instance per
 * stream at the level this module decides (chalk's own detection looks at
 * stdout only).
 */
import { Chalk, type ChalkInstance } from 'chalk';

export type Stream = 'out' | 'err';

export interface Output {
  out(text: string): void;
  err(text: string): void;
  color(stream: Stream): boolean;
  /** chalk for text written to `stream`: plain text when that stream gets no colour. */
  style(stream: Stream): ChalkInstance;
}

type Env = Readonly<Record<string, string | undefined>>;

export function useColor(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env: Env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

/** chalk with the 16 basic colours, or with none. */
export function styleFor(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

export function processOutput(env: Env): Output {
  const streams = { out: process.stdout, err: process.stderr };
  const color = (stream: Stream): boolean => useColor(streams[stream], env);
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    color,
    style: (stream) => styleFor(color(stream)),
  };
}
