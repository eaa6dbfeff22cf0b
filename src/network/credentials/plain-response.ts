/**
 * A plain `http://` response relayed to the command in a run with
 * credentials (proxy.ts), read as a terminated tunnel's is
 * (response-reader.ts) so that its body is scrubbed as the body, not as the
 * bytes of its framing: a chunked body is taken out of its chunks, scrubbed
 * and sent on in chunks of isolate's own. Searched as it came, a value the
 * server wrote in two chunks (`5\r\nghp_a\r\n…`) had a chunk size in its
 * middle, which the scrubber did not match and the command's client took
 * out again: the real value reached the command.
 *
 * The head goes on with its names and values scrubbed (as HTTP/1.1, with
 * its framing headers as they were); 1xx heads are not passed on, nor is
 * anything after the response ends (the proxy asked for the connection to
 * be closed after it). A response that cannot be read so (malformed, a
 * switch of protocols) ends the connection; a body cut short is cut short
 * for the command too (a chunked one without its last chunk).
 */
import { ResponseReader } from './response-reader.js';
import type { Framing, ResponseHead } from './response-head.js';
import type { Scrubber } from './scrub.js';
import type { CredentialVault } from './vault.js';

export interface PlainResponse {
  /** Reads the next bytes from upstream; why the connection must end, or undefined. */
  check: (chunk: Buffer) => string | undefined;
  /** Hands on, scrubbed, what `check` read of the bytes it is given (the same bytes, after `check`). */
  scrubber: Scrubber;
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

function headBytes(head: ResponseHead, vault: CredentialVault): Buffer {
  const lines = [`HTTP/1.1 ${head.status} ${vault.scrubText(head.message)}`, ...head.headers.map(([n, v]) => `${vault.scrubText(n)}: ${vault.scrubText(v)}`), '', ''];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** The response to a request of `method`, read and scrubbed of `vault`'s values. */
export function plainResponse(method: string, vault: CredentialVault): PlainResponse {
  const scrub = vault.responseScrubber();
  let out: Buffer[] = [];
  let chunked = false;
  let ended = false;
  /** Scrubbed body bytes, in a chunk of their own when the body is chunked. */
  const emit = (parts: Buffer[]): void => {
    const length = parts.reduce((n, p) => n + p.length, 0);
    if (length === 0) return;
    out.push(...(chunked ? [Buffer.from(`${length.toString(16)}\r\n`), ...parts, CRLF] : parts));
  };
  const reader = new ResponseReader(method, {
    head: (head: ResponseHead, f: Framing) => {
      chunked = f.kind === 'chunked';
      out.push(headBytes(head, vault));
    },
    body: (pieces, release) => {
      emit(pieces.flatMap((p) => scrub.push(p)));
      release();
    },
    end: () => {
      if (ended) return; // the reader says so again for bytes after the end, which are not passed on
      ended = true;
      emit([scrub.flush()]);
      if (chunked) out.push(LAST_CHUNK);
    },
    fail: () => undefined,
  });
  const release = (): void => undefined;
  return {
    check: (chunk) => reader.push(chunk, release),
    scrubber: {
      push: () => {
        const parts = out;
        out = [];
        return parts;
      },
      flush: () => {
        // The connection ended: the end of a body framed by it; a body cut short is passed on as cut short, without
        // the bytes the scrubber holds back (they may be the start of a value whose rest never came).
        if (!ended) reader.ended();
        const parts = out;
        out = [];
        return Buffer.concat(parts);
      },
    },
  };
}
