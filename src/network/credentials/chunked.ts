/**
 * The data of a chunked body (RFC 9112 section 7.1), taken out of its
 * framing as it arrives: chunk sizes, extensions, the CRLF after each chunk
 * and the trailer section are read and dropped, and the chunks' bytes are
 * handed on as views of the pieces they came in. So a value split between
 * two chunks is whole again for the scrubber. Strict: a malformed size line
 * or a missing CRLF is an error, never guessed at.
 */

export interface Dechunked {
  /** The body's bytes in these pieces, in order (views of them). */
  data: Buffer[];
  /** The last chunk and the trailer section have been read. */
  done: boolean;
}

/** The longest size line (with its extensions) or trailer line taken. */
const MAX_LINE = 4096;
const SIZE = /^([0-9A-Fa-f]{1,13})[\t ]*(?:;.*)?$/;

type State = 'size' | 'data' | 'crlf' | 'trailer' | 'done';

export class ChunkedDecoder {
  private state: State = 'size';
  /** Bytes of the chunk being read still to come. */
  private left = 0;
  /** A line read in part (size, CRLF, trailer). */
  private line = '';

  /** The body's bytes in `piece`, or why the framing is malformed. */
  push(piece: Buffer): Dechunked | { error: string } {
    const data: Buffer[] = [];
    let at = 0;
    while (at < piece.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, piece.length - at);
        data.push(piece.subarray(at, at + n));
        at += n;
        this.left -= n;
        if (this.left === 0) this.state = 'crlf';
        continue;
      }
      const end = piece.indexOf(0x0a, at);
      this.line += piece.toString('latin1', at, end === -1 ? piece.length : end + 1);
      at = end === -1 ? piece.length : end + 1;
      if (this.line.length > MAX_LINE) return { error: 'the upstream response has a chunk line too long' };
      if (end === -1) break;
      const error = this.onLine(this.line);
      this.line = '';
      if (error !== undefined) return { error };
    }
    return { data, done: this.state === 'done' };
  }

  private onLine(line: string): string | undefined {
    if (!line.endsWith('\r\n')) return 'the upstream response has a chunk line without CRLF';
    const text = line.slice(0, -2);
    if (this.state === 'crlf') {
      if (text !== '') return 'the upstream response has a chunk without its CRLF';
      this.state = 'size';
    } else if (this.state === 'size') {
      const m = SIZE.exec(text);
      if (m?.[1] === undefined) return 'the upstream response has a malformed chunk size';
      this.left = parseInt(m[1], 16);
      this.state = this.left === 0 ? 'trailer' : 'data';
    } else if (text === '') {
      this.state = 'done';
    }
    return undefined;
  }
}
