/** Captured output (--json, the API): read as it comes, kept up to a cap per stream, the rest dropped and said. */
import type { Readable } from 'node:stream';

/** Per captured stream: enough for any report a person reads, small enough that a flood cannot exhaust isolate. */
export const DEFAULT_MAX_CAPTURE = 4 * 1024 * 1024;

export interface Capture {
  text(): string;
  truncated(): boolean;
  /** Every byte the stream carried, kept or dropped. */
  size(): number;
}

/** Read `stream` into memory up to `limit` bytes; `onFull` is told once when more than that arrives. */
export function capture(stream: Readable | null | undefined, limit: number, onFull?: () => void): Capture {
  const chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  let seen = 0;
  const full = (): void => {
    if (!cut) onFull?.();
    cut = true;
  };
  stream?.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (size >= limit) return full();
    const room = limit - size;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(part);
    size += part.length;
    if (part.length < chunk.length) full();
  });
  return { text: () => Buffer.concat(chunks).toString('utf8'), truncated: () => cut, size: () => seen };
}

/** The last `lines` lines of a capture, trimmed: what a failing launcher said last. */
export function tail(c: Capture, lines: number): string {
  return c.text().trim().split('\n').slice(-lines).join('\n');
}
