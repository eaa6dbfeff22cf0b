/**
 * An upstream response read from the bytes of its connection as they come
 * (upstream.ts): the head (1xx heads skipped, response-head.ts), then the
 * body by its framing, handed to the sink as views; a chunked body taken
 * out of its chunks (chunked.ts). Anything malformed is an error, never
 * guessed at; a body framed by a length or by chunks that the connection
 * ends early is an error too.
 */
import { ChunkedDecoder } from './chunked.js';
import { MAX_RESPONSE_HEAD, framing, parseResponseHead, type Framing, type ResponseHead } from './response-head.js';

/** What the response is handed to: `head` once, `body` as the bytes come, then `end`; or `fail` (before or after `head`), and nothing after it. */
export interface ResponseSink {
  head(head: ResponseHead, framing: Framing): void;
  /** Body bytes, views of a buffer that is reused once `release` has been called. */
  body(pieces: Buffer[], release: () => void): void;
  end(): void;
  fail(reason: string): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Reads a response from the bytes of one connection: head (1xx heads skipped), then body by its framing. */
export class ResponseReader {
  private head: Buffer | undefined = Buffer.alloc(0);
  private frame: Framing | undefined;
  private left = 0;
  private readonly chunks = new ChunkedDecoder();
  done = false;

  constructor(
    private readonly method: string,
    private readonly sink: ResponseSink,
  ) {}

  /** The next bytes; an error message when the response is malformed. */
  push(piece: Buffer, release: () => void): string | undefined {
    if (this.head === undefined) return this.readBody(piece, release);
    // The head is read from a copy: the piece is free at once, and the body's first bytes are in the copy.
    const r = this.readHead(piece);
    release();
    return typeof r === 'string' ? r : r === undefined ? undefined : this.readBody(r, () => undefined);
  }

  /** The bytes after the head, undefined while it is incomplete, or an error. */
  private readHead(piece: Buffer): Buffer | string | undefined {
    for (let data = Buffer.concat([this.head ?? Buffer.alloc(0), piece]); ; ) {
      const end = data.indexOf(HEAD_END);
      if (end === -1) {
        if (data.length > MAX_RESPONSE_HEAD) return 'the upstream response head is too large';
        this.head = data;
        return undefined;
      }
      const head = parseResponseHead(data.toString('latin1', 0, end));
      if ('error' in head) return head.error;
      if (head.status === 101) return 'the upstream server switched protocols; isolate relays HTTP/1.1 only';
      data = data.subarray(end + 4);
      if (head.status >= 200) return this.startBody(head, data);
    }
  }

  private startBody(head: ResponseHead, rest: Buffer): Buffer | string {
    const f = framing(head, this.method);
    if ('error' in f) return f.error;
    this.head = undefined;
    this.frame = f;
    this.left = f.kind === 'length' ? f.length : 0;
    this.sink.head(head, f);
    return rest;
  }

  private readBody(piece: Buffer, release: () => void): string | undefined {
    const f = this.frame;
    let pieces: Buffer[] = [];
    if (f?.kind === 'close') pieces = [piece];
    else if (f?.kind === 'length') {
      const n = Math.min(this.left, piece.length);
      this.left -= n;
      pieces = [piece.subarray(0, n)];
    } else if (f?.kind === 'chunked') {
      const r = this.chunks.push(piece);
      if ('error' in r) return r.error;
      pieces = r.data;
      this.done = r.done;
    }
    this.done ||= f?.kind === 'none' || (f?.kind === 'length' && this.left === 0);
    pieces = pieces.filter((p) => p.length > 0);
    if (pieces.length > 0) this.sink.body(pieces, release);
    else release();
    if (this.done) this.sink.end();
    return undefined;
  }

  /** The connection ended: the end of a body framed by it, else a response cut short. */
  ended(): string | undefined {
    if (this.done) return undefined;
    if (this.frame?.kind !== 'close') return 'the upstream server closed the connection before the response ended';
    this.done = true;
    this.sink.end();
    return undefined;
  }
}
