/**
 * Plain HTTP inside an opaque tunnel (CONNECT, SOCKS5: `curl
 * --socks5-hostname` with an http:// URL, a client that tunnels port 80).
 * Its Host header is the client's to choose, and a server shared by many
 * sites (a CDN) routes by it; an http:// request sent to the proxy as such
 * goes on with the Host the rules decided on, and a tunnel must not be the
 * way around that. So the first request of a tunnel that starts with one
 * is read and written again as the proxy writes an http:// request
 * (request-head.ts): the tunnel's host as its Host, `Connection: close`, so
 * no request after it on the connection is served. A head the proxy cannot
 * read, or one naming a server in its target, ends the tunnel.
 *
 * What starts like no request line passes at once (TLS, whose server name
 * is sniGate's; another protocol), and so does a first line that has not
 * all come yet (a protocol may send a word and wait for the answer). HTTP
 * clients send a request's head in one piece; a request line that comes
 * in pieces (`G`, then `ET / HTTP/1.1`) is read by the watch as it passes,
 * which ends the tunnel at the piece that completes it: the server never
 * has the line, let alone a Host.
 */
import type { GateVerdict } from './relay-filter.js';
import { MAX_HEAD, forwardedHeaders, originFormHead, parseRequestHead } from './request-head.js';

/** What a server may skip before a request line: empty lines, and (lenient ones) white space. */
const LEADING = new Set([0x0d, 0x0a, 0x20, 0x09]);
/** The method characters a line starts with. */
const TOKEN_LEAD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*/;
const WHITE = new Set([0x20, 0x09]);
/** An HTTP request line: method, target, version (lenient servers take any case, a tab for a space, a space inside the target). */
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t].*[ \t]HTTP\/\d/i;

const REFUSED = 'plain HTTP inside a tunnel';

/** `data` without what a server skips before a request line. */
function skipLeading(data: Buffer): Buffer {
  let at = 0;
  while (at < data.length && LEADING.has(data[at] ?? 0)) at++;
  return data.subarray(at);
}

/** Whether `data` (the first line's start) can be a request line: a method, then white space; undefined while it is all method so far. */
function methodFirst(data: Buffer): boolean | undefined {
  const seen = Math.min(data.length, 64);
  const lead = TOKEN_LEAD.exec(data.toString('latin1', 0, seen))?.[0].length ?? 0;
  if (lead === seen) return seen === 64 ? true : undefined;
  return lead > 0 && WHITE.has(data[lead] ?? 0);
}

export interface TunnelHttp {
  /** Decides on the first bytes: pass, the request written again, or refused. */
  gate: (data: Buffer) => GateVerdict;
  /** Reads the first line of what the gate passed unread; the reason to end the tunnel when it completes a request line. */
  watch: (chunk: Buffer) => string | undefined;
}

/** The gate and watch of a tunnel to `host`:`port`. */
export function tunnelHttp(host: string, port: number): TunnelHttp {
  const authority = `${host.includes(':') ? `[${host}]` : host}${port === 80 ? '' : `:${port}`}`;
  let watching = true;
  let line = Buffer.alloc(0);
  const gate = (data: Buffer): GateVerdict => {
    const rest = skipLeading(data);
    if (rest.length === 0) return 'more';
    const eol = rest.indexOf(0x0a);
    // A first line not all here yet passes: the watch reads it on its way (a protocol may send a word and wait).
    if (methodFirst(rest) === false || eol === -1) return 'pass';
    if (!REQUEST_LINE.test(rest.toString('latin1', 0, eol))) return 'pass';
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) return rest.length > MAX_HEAD ? { refused: `${REFUSED}: a request head larger than ${MAX_HEAD} bytes` } : 'more';
    const head = parseRequestHead(rest.toString('latin1', 0, end));
    if (head === undefined) return { refused: `${REFUSED}: a malformed request head` };
    if (!head.target.startsWith('/') && head.target !== '*') return { refused: `${REFUSED}: the request's target ${JSON.stringify(head.target)} is not a path` };
    watching = false;
    return { pass: Buffer.concat([originFormHead(head, head.target, authority, forwardedHeaders(head.headers)), rest.subarray(end + 4)]) };
  };
  const watch = (chunk: Buffer): string | undefined => {
    if (!watching) return undefined;
    const rest = skipLeading(Buffer.concat([line, chunk]));
    const eol = rest.indexOf(0x0a);
    const method = methodFirst(rest);
    if (method === false || (eol === -1 && rest.length > MAX_HEAD)) watching = false;
    if (method === false) return undefined;
    if (eol === -1) {
      line = watching ? Buffer.from(rest) : Buffer.alloc(0);
      return watching ? undefined : `${REFUSED}: a request line longer than ${MAX_HEAD} bytes`;
    }
    watching = false;
    return REQUEST_LINE.test(rest.toString('latin1', 0, eol)) ? `${REFUSED}, sent in pieces: refused (its Host could not be set)` : undefined;
  };
  return { gate, watch };
}
