/**
 * Every write isolate makes to stdout or stderr goes through here. Colour is
 * decided per stream: only on a TTY, never with NO_COLOR or TERM=dumb, always
 * with FORCE_COLOR (other than 0). Colours come from chalk at the level this
 * module decides (chalk's own detection looks at stdout only); chalk is
 * loaded only when a stream gets colour.
 */

export type Stream = 'out' | 'err';

/** The styles isolate uses; a chalk instance is one. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
  color(stream: Stream): boolean;
  /** The styles for text written to `stream`: plain text when that stream gets no colour. */
  style(stream: Stream): Style;
}

type Env = Readonly<Record<string, string | undefined>>;
type Writable = Pick<NodeJS.WriteStream, 'isTTY' | 'write'>;

const same = (text: string): string => text;
export const PLAIN: Style = { bold: same, dim: same, red: same, green: same, yellow: same };

export function useColor(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env: Env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

/** The 16 basic colours, through chalk. */
export async function colorStyle(): Promise<Style> {
  const { Chalk } = await import('chalk');
  return new Chalk({ level: 1 });
}

export async function createOutput(streams: Record<Stream, Writable>, env: Env): Promise<Output> {
  const color = { out: useColor(streams.out, env), err: useColor(streams.err, env) };
  const painted = color.out || color.err ? await colorStyle() : PLAIN;
  return {
    out: (text) => void streams.out.write(text),
    err: (text) => void streams.err.write(text),
    color: (stream) => color[stream],
    style: (stream) => (color[stream] ? painted : PLAIN),
  };
}

export function processOutput(env: Env): Promise<Output> {
  return createOutput({ out: process.stdout, err: process.stderr }, env);
}
