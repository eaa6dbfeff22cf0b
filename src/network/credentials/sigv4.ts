/**
 * AWS Signature Version 4, as the proxy needs it for an `aws` credential:
 * check that a request was signed with the placeholder secret (recompute the
 * signature over the request as received), then sign it again with the real
 * keys. Both forms: the Authorization header and the presigned query
 * (X-Amz-Signature). Written with node:crypto: the algorithm is public and
 * short, and a signing library would bring its own idea of the request (it
 * signs a request it builds) where the proxy must sign exactly the bytes it
 * received. Pure: no I/O, no clock (the signed date is the client's).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What a signature names: the key id, the scope (date/region/service/aws4_request), the signed headers. */
export interface SigV4Params {
  form: 'header' | 'query';
  accessKeyId: string;
  /** yyyymmdd/region/service/aws4_request */
  scope: string;
  service: string;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
}

export interface SignedRequest {
  method: string;
  /** Origin form, exactly as received: path and query. */
  target: string;
  headers: readonly (readonly [string, string])[];
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 unreserved characters stay; every other byte is %XX (upper case). */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const values = headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(',');
}

/** The query's pairs, decoded; undefined when a percent sequence is malformed. */
function queryPairs(query: string): [string, string][] | undefined {
  const out: [string, string][] = [];
  for (const part of query.split('&').filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const k = decode(eq === -1 ? part : part.slice(0, eq));
    const v = decode(eq === -1 ? '' : part.slice(eq + 1));
    if (k === undefined || v === undefined) return undefined;
    out.push([k, v]);
  }
  return out;
}

/** S3 signs the path as sent; every other service its normalised path, escaped once more. */
function canonicalPath(path: string, service: string): string {
  if (service === 's3') return path === '' ? '/' : path;
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '..') segments.pop();
    else if (s !== '.' && s !== '') segments.push(s);
  }
  const normal = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEscape(normal).replace(/%2F/g, '/');
}

function canonicalQuery(pairs: readonly [string, string][]): string {
  return pairs
    .map(([k, v]) => [uriEscape(k), uriEscape(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function canonicalHeaders(req: SignedRequest, signed: readonly string[]): string | undefined {
  const lines: string[] = [];
  for (const name of signed) {
    const v = headerValue(req.headers, name);
    if (v === undefined) return undefined;
    lines.push(`${name}:${v.trim().replace(/\s+/g, ' ')}\n`);
  }
  return lines.join('');
}

/** The signature params of a request, from its Authorization header or its query; undefined when it carries none. */
export function sigV4Params(req: SignedRequest): SigV4Params | undefined {
  const auth = headerValue(req.headers, 'authorization');
  if (auth?.startsWith(`${ALGORITHM} `) === true) {
    const field = (name: string): string | undefined => new RegExp(`(?:^|[\\s,])${name}=([^,\\s]+)`).exec(auth.slice(ALGORITHM.length))?.[1];
    return build('header', field('Credential'), headerValue(req.headers, 'x-amz-date'), field('SignedHeaders'), field('Signature'));
  }
  const q = new Map(queryPairs(req.target.split('?').slice(1).join('?')) ?? []);
  if (q.get('X-Amz-Algorithm') !== ALGORITHM) return undefined;
  return build('query', q.get('X-Amz-Credential'), q.get('X-Amz-Date'), q.get('X-Amz-SignedHeaders'), q.get('X-Amz-Signature'));
}

function build(form: SigV4Params['form'], credential?: string, amzDate?: string, signed?: string, signature?: string): SigV4Params | undefined {
  const parts = credential?.split('/') ?? [];
  const [accessKeyId, date, region, service, term] = parts;
  if (parts.length !== 5 || accessKeyId === undefined || date === undefined || region === undefined || service === undefined || term !== 'aws4_request') return undefined;
  if (amzDate === undefined || signed === undefined || signature === undefined || !amzDate.startsWith(date)) return undefined;
  return { form, accessKeyId, scope: parts.slice(1).join('/'), service, amzDate, signedHeaders: signed.toLowerCase().split(';'), signature };
}

/**
 * The string the signature covers. `payloadHash`: the hex SHA-256 of the
 * body, or UNSIGNED-PAYLOAD (the header form uses x-amz-content-sha256 when
 * the request has it; the caller hashes the body otherwise).
 */
export function stringToSign(req: SignedRequest, p: SigV4Params, payloadHash: string): string | undefined {
  const [path = '', ...rest] = req.target.split('?');
  const pairs = queryPairs(rest.join('?'));
  const headers = canonicalHeaders(req, p.signedHeaders);
  if (pairs === undefined || headers === undefined) return undefined;
  const query = canonicalQuery(p.form === 'query' ? pairs.filter(([k]) => k !== 'X-Amz-Signature') : pairs);
  const canonical = [req.method.toUpperCase(), canonicalPath(path, p.service), query, headers, p.signedHeaders.join(';'), payloadHash].join('\n');
  return [ALGORITHM, p.amzDate, p.scope, sha256Hex(canonical)].join('\n');
}

export function signature(secretAccessKey: string, scope: string, toSign: string): string {
  const key = scope.split('/').slice(0, 4).reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${secretAccessKey}`);
  return hmac(key, toSign).toString('hex');
}

/** Whether `p.signature` is the signature of `toSign` with `secret`, compared in constant time. */
export function signatureMatches(secret: string, p: SigV4Params, toSign: string): boolean {
  const want = Buffer.from(signature(secret, p.scope, toSign), 'latin1');
  const got = Buffer.from(p.signature.toLowerCase(), 'latin1');
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The payload hash a header-form request declares (x-amz-content-sha256), a presigned one's UNSIGNED-PAYLOAD, or undefined: hash the body. */
export function declaredPayloadHash(req: SignedRequest, p: SigV4Params): string | undefined {
  if (p.form === 'query') return UNSIGNED_PAYLOAD;
  return headerValue(req.headers, 'x-amz-content-sha256');
}

export const hashPayload = (body: Buffer): string => sha256Hex(body);

export type Resigned = { ok: true; target: string; headers: [string, string][] } | { ok: false; reason: string };

/** `s` with each placeholder (and its percent-encoded form, as a query carries it) replaced by its real value. */
function swapKeys(s: string, from: AwsKeys, to: AwsKeys): string {
  const pairs: [string, string][] = [[from.accessKeyId, to.accessKeyId]];
  if (from.sessionToken !== undefined && to.sessionToken !== undefined) pairs.push([from.sessionToken, to.sessionToken]);
  return pairs.reduce((acc, [a, b]) => acc.replaceAll(a, b).replaceAll(uriEscape(a), uriEscape(b)), s);
}

/**
 * Check that `req` was signed with the placeholder keys, then sign it with
 * the real ones: the key id and session token swapped, the same headers
 * signed, the new signature in the place of the old one.
 */
export function resign(req: SignedRequest, p: SigV4Params, payloadHash: string, placeholder: AwsKeys, real: AwsKeys): Resigned {
  if (p.accessKeyId !== placeholder.accessKeyId) return { ok: false, reason: 'the request is signed with another access key id than the placeholder' };
  const before = stringToSign(req, p, payloadHash);
  if (before === undefined) return { ok: false, reason: 'the request cannot be put in SigV4 canonical form (a signed header is missing or the query is malformed)' };
  if (!signatureMatches(placeholder.secretAccessKey, p, before)) return { ok: false, reason: 'the SigV4 signature was not made with the placeholder secret key' };
  const swapped: SignedRequest = {
    method: req.method,
    target: swapKeys(req.target, placeholder, real),
    headers: req.headers.map(([n, v]) => [n, n.toLowerCase() === 'authorization' ? v : swapKeys(v, placeholder, real)]),
  };
  const after = stringToSign(swapped, { ...p, accessKeyId: real.accessKeyId }, payloadHash);
  if (after === undefined) return { ok: false, reason: 'the re-signed request cannot be put in SigV4 canonical form' };
  const sig = signature(real.secretAccessKey, p.scope, after);
  if (p.form === 'query') {
    const [path = '', ...rest] = swapped.target.split('?');
    const query = rest.join('?').split('&').map((part) => (part.startsWith('X-Amz-Signature=') ? `X-Amz-Signature=${sig}` : part)).join('&');
    return { ok: true, target: `${path}?${query}`, headers: swapped.headers.map(([n, v]) => [n, v]) };
  }
  const auth = `${ALGORITHM} Credential=${real.accessKeyId}/${p.scope}, SignedHeaders=${p.signedHeaders.join(';')}, Signature=${sig}`;
  return { ok: true, target: swapped.target, headers: swapped.headers.map(([n, v]) => [n, n.toLowerCase() === 'authorization' ? auth : v]) };
}
