/**
 * One request that carries an aws credential's placeholder, as the proxy
 * handles it: it must be SigV4-signed with the placeholder keys (the
 * Authorization header or a presigned query); its payload hash is taken
 * as declared when the payload is unsigned, and checked against the body
 * otherwise; then it is signed again with the real keys (sigv4.ts).
 * Chunk-signed (streaming) uploads are refused: each chunk's signature
 * chains on the secret key, and isolate does not re-sign the chunks.
 */
import { UNSIGNED_PAYLOAD, declaredPayloadHash, hashPayload, resign, sigV4Params, type Resigned, type SignedRequest } from './sigv4.js';
import type { AwsSigning } from './spec.js';

/** The largest body isolate reads into memory to hash it (a payload hash declared or to be computed). */
export const MAX_HASHED_BODY = 32 * 1024 * 1024;

/** Payload hashes that sign no body: the body goes on as it came. */
const UNSIGNED = new Set([UNSIGNED_PAYLOAD, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** Whether the body must be read before `req` can be checked: its payload hash is a hash of the body, declared or not. */
export function awsBodyNeeded(req: SignedRequest): boolean {
  const p = sigV4Params(req);
  if (p === undefined) return false;
  const declared = declaredPayloadHash(req, p);
  return declared === undefined || HEX_SHA256.test(declared);
}

type PayloadHash = { ok: true; value: string } | { ok: false; reason: string };

function payloadHash(declared: string | undefined, body: Buffer | undefined): PayloadHash {
  if (declared !== undefined && UNSIGNED.has(declared)) return { ok: true, value: declared };
  if (declared?.startsWith('STREAMING-') === true) {
    return { ok: false, reason: `x-amz-content-sha256 ${declared}: isolate does not re-sign chunk-signed (streaming) uploads; sign the payload as UNSIGNED-PAYLOAD or with its SHA-256` };
  }
  if (declared !== undefined && !HEX_SHA256.test(declared)) return { ok: false, reason: 'x-amz-content-sha256 is neither UNSIGNED-PAYLOAD nor a SHA-256 in hex' };
  if (body === undefined) {
    return { ok: false, reason: `the body of a request signed with an aws credential is hashed in memory, up to ${MAX_HASHED_BODY / 1024 / 1024} MiB, and this one is larger; sign it as UNSIGNED-PAYLOAD` };
  }
  const actual = hashPayload(body);
  if (declared !== undefined && declared.toLowerCase() !== actual) return { ok: false, reason: 'x-amz-content-sha256 does not match the SHA-256 of the body' };
  return { ok: true, value: declared ?? actual };
}

/** `req` checked against the placeholder keys and signed with the real ones; `body` when awsBodyNeeded said so (undefined: too large to read). */
export function resignAws(req: SignedRequest, body: Buffer | undefined, keys: AwsSigning): Resigned {
  const p = sigV4Params(req);
  if (p === undefined) {
    return { ok: false, reason: 'the request carries a placeholder of the aws credential but no SigV4 signature (an AWS4-HMAC-SHA256 Authorization header or X-Amz-Signature query)' };
  }
  const hash = payloadHash(declaredPayloadHash(req, p), body);
  if (!hash.ok) return hash;
  return resign(req, p, hash.value, keys.placeholder, keys.real);
}
