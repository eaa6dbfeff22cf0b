/** A run's captured output as a tool returns it: capped, with a mark an assistant cannot miss and the full size. */

export interface Stream {
  text: string;
  /** Every byte the command wrote, kept or not. */
  bytes: number;
  truncated: boolean;
}

/** The text with, when cut after `limit` bytes, a last line saying how much was kept of how much. */
export function marked(name: 'stdout' | 'stderr', s: Stream, limit: number): string {
  if (!s.truncated) return s.text;
  const sep = s.text.endsWith('\n') || s.text === '' ? '' : '\n';
  return `${s.text}${sep}[isolate: ${name} truncated: the first ${Math.min(limit, s.bytes)} of ${s.bytes} bytes are shown]\n`;
}
