/**
 * The check on a plain `http://` response that the proxy relays byte for
 * byte with the run's credentials (proxy.ts): its scrubber searches the
 * bytes as they come, which cannot find a value inside a compressed body,
 * and only a terminated tunnel decodes one (content-coding.ts). So a
 * response whose head names a content coding is refused before any of its
 * body is passed on. The head is read as it arrives (1xx heads skipped);
 * the bytes that follow the final head are not looked at.
 */
import { MAX_RESPONSE_HEAD, contentCodings, parseResponseHead } from './response-head.js';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Why the connection must end, given its next bytes from upstream; undefined to pass them on. */
export function compressedResponseGuard(): (chunk: Buffer) => string | undefined {
  let seen: Buffer | undefined = Buffer.alloc(0);
  return (chunk) => {
    if (seen === undefined) return undefined;
    let data = Buffer.concat([seen, chunk]);
    for (let end = data.indexOf(HEAD_END); end !== -1; end = data.indexOf(HEAD_END)) {
      const head = parseResponseHead(data.toString('latin1', 0, end));
      if ('error' in head) return head.error;
      data = data.subarray(end + 4);
      if (head.status < 200) continue;
      seen = undefined;
      const codings = contentCodings(head.headers);
      return codings.length === 0 ? undefined : `the upstream response is encoded with ${codings.join(', ')}: over plain HTTP isolate does not decode a body to search it for a credential's value`;
    }
    if (data.length > MAX_RESPONSE_HEAD) return 'the upstream response head is too large';
    seen = data;
    return undefined;
  };
}
