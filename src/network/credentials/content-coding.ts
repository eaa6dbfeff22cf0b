/**
 * A compressed response body on a terminated tunnel, decoded before it is
 * scrubbed (to-client.ts): the scrubber searches bytes, and a value inside
 * a gzip stream is not among them. The proxy asks for an uncompressed
 * response when it adds a value (vault.ts), but a server may compress
 * anyway, and an endpoint that echoes a request would then hand the command
 * the real value. So every compressed body is decoded, scrubbed and passed
 * on uncompressed; one whose coding isolate cannot decode is refused,
 * never passed on unsearched.
 */
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** A stream that undoes `codings` (one of gzip, deflate, br), or why isolate cannot. */
export function bodyDecoder(codings: readonly string[]): Transform | { error: string } {
  const [coding] = codings;
  const make = coding === undefined ? undefined : DECODERS[coding];
  if (codings.length !== 1 || make === undefined) {
    return { error: `the upstream response is encoded with ${codings.join(', ')}, which isolate cannot search for a credential's value (it decodes one of gzip, deflate, br)` };
  }
  return make();
}
