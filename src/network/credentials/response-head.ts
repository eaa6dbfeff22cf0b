/**
 * The head of an upstream server's HTTP/1.1 response, read by the proxy
 * itself on a terminated tunnel (upstream.ts), and how its body is framed
 * (RFC 9112 section 6.3). Strict: a head that is malformed, too large, or
 * whose length is ambiguous (two different Content-Lengths, a non-numeric
 * one) is refused, never guessed at: a proxy that reads a response's end
 * differently from the client would let a server smuggle a second
 * response past the scrubbing.
 */

export interface ResponseHead {
  status: number;
  message: string;
  /** Names and values as they came, in order. */
  headers: [string, string][];
}

/** How the body after a head ends: none, after `length` bytes, with its last chunk, or when the server closes the connection. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

/** The most a response head may take (status line and headers). */
export const MAX_RESPONSE_HEAD = 64 * 1024;

const STATUS_LINE = /^HTTP\/1\.[01] ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
/** RFC 9110 token characters: a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value: visible characters, spaces and tabs; no CR, LF, NUL or other control character. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The head in `text` (latin1, without the blank line that ends it), or why it is malformed. */
export function parseResponseHead(text: string): ResponseHead | { error: string } {
  const [statusLine, ...lines] = text.split('\r\n');
  const m = STATUS_LINE.exec(statusLine ?? '');
  if (m?.[1] === undefined) return { error: 'the upstream response has a malformed status line' };
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const [name, value] = [line.slice(0, colon), line.slice(colon + 1).trim()];
    // A line that starts with a space or tab (obsolete folding) has no valid name either.
    if (colon <= 0 || !HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) return { error: 'the upstream response has a malformed header line' };
    headers.push([name, value]);
  }
  return { status: Number(m[1]), message: m[2] ?? '', headers };
}

function values(headers: readonly [string, string][], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name).flatMap(([, v]) => v.split(','));
}

/** The codings listed in the headers called `name`, lower-cased. */
function codingsOf(headers: readonly [string, string][], name: string): string[] {
  return values(headers, name).map((c) => c.trim().toLowerCase());
}

/** The transfer codings a body may carry inside its chunks (RFC 9112 section 7), which contentCodings then names. */
const INNER_TRANSFER_CODINGS: ReadonlySet<string> = new Set(['gzip', 'x-gzip', 'deflate', 'compress', 'x-compress']);

/**
 * Whether a Transfer-Encoding list (empty items left out) is one every
 * client reads alike: chunked last, once, after compressions only. The
 * standard lets a body that is not chunked last end with the connection,
 * but clients disagree (curl reads `chunked, identity`, `chunked,` and a
 * second empty header as chunked), and a proxy that searched the raw bytes
 * while the client joined the chunks let a value split between two chunks
 * through: such a response is refused.
 */
function plainlyChunked(codings: readonly string[]): boolean {
  const last = codings.length - 1;
  return codings[last] === 'chunked' && codings.slice(0, last).every((c) => INNER_TRANSFER_CODINGS.has(c));
}

/** The body's framing for a request of `method`, or why it cannot be told. */
export function framing(head: ResponseHead, method: string): Framing | { error: string } {
  if (method === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) return { kind: 'none' };
  // A Transfer-Encoding overrides any Content-Length (which is then dropped). Its values are not quoted: a server may echo a value there.
  const transfer = codingsOf(head.headers, 'transfer-encoding'); // an empty header lists one empty item
  if (transfer.length > 0) {
    const codings = transfer.filter((c) => c !== '');
    return plainlyChunked(codings) ? { kind: 'chunked' } : { error: 'the upstream response has a Transfer-Encoding that is not chunked last, once, after compressions only' };
  }
  const lengths = [...new Set(values(head.headers, 'content-length').map((v) => v.trim()))];
  if (lengths.length === 0) return { kind: 'close' };
  const length = lengths[0] ?? '';
  if (lengths.length > 1 || !/^\d{1,15}$/.test(length)) return { error: 'the upstream response has an invalid or ambiguous Content-Length' };
  return { kind: 'length', length: Number(length) };
}

/**
 * The codings a response's body still has once its chunks are read, in the
 * order they were applied, without `identity`: its content codings, then
 * any transfer coding but chunked (`Transfer-Encoding: gzip, chunked`
 * leaves a gzip stream, which the headers passed on no longer name).
 */
export function contentCodings(headers: readonly [string, string][]): string[] {
  const transfer = codingsOf(headers, 'transfer-encoding').filter((c) => c !== 'chunked');
  return [...codingsOf(headers, 'content-encoding'), ...transfer].filter((c) => c !== '' && c !== 'identity');
}
