/**
 * The head of a plain HTTP request the proxy passes on (an http://
 * request sent to it, or one inside a tunnel): read strictly, and written
 * again in origin form with the Host the proxy decided on and
 * `Connection: close`, so that neither this request nor one after it on
 * the connection can name another site served from the same address.
 */

/** The most a request head may take (request line and headers). */
export const MAX_HEAD = 64 * 1024;

export interface RequestHead {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
}

/** RFC 9110 token characters: a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value: visible characters, spaces and tabs; no CR, LF, NUL or other control character (a bare LF would start a header of its own upstream). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The request line and headers, or undefined when any part is malformed: such a request is refused, never passed on. */
export function parseRequestHead(text: string): RequestHead | undefined {
  const [requestLine, ...headerLines] = text.split('\r\n');
  const m = /^([A-Z]+) ([\x21-\x7e]+) (HTTP\/1\.[01])$/.exec(requestLine ?? '');
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const headers: [string, string][] = [];
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const [name, value] = [line.slice(0, colon), line.slice(colon + 1).trim()];
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) return undefined;
    headers.push([name, value]);
  }
  return { method: m[1], target: m[2], version: m[3], headers };
}

/** The headers passed on: not Host (the proxy writes its own), nor those of the connection to the proxy. */
export function forwardedHeaders(headers: readonly [string, string][]): [string, string][] {
  return headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !(lower === 'host' || lower === 'connection' || lower === 'keep-alive' || lower.startsWith('proxy-'));
  });
}

/** The head to send upstream: `target` in origin form, `host` as the only Host, the connection closed after the response. */
export function originFormHead(head: Pick<RequestHead, 'method' | 'version'>, target: string, host: string, headers: readonly [string, string][]): Buffer {
  const lines = [`${head.method} ${target} ${head.version}`, `Host: ${host}`, ...headers.map(([name, value]) => `${name}: ${value}`), 'Connection: close', '', ''];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
