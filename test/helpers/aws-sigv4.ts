/**
 * SigV4 as an independent implementation (the aws4 package) makes and
 * checks it, for the tests of aws credentials: sign a request with given
 * keys, and verify a received request against given keys, the way an AWS
 * service would (the signed headers as the request names them).
 */
import aws4 from 'aws4';

export interface AwsTestKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  host: string;
  method: string;
  path: string;
  service: string;
  body?: Buffer;
  /** Extra headers to sign (x-amz-content-sha256, ...). */
  headers?: Record<string, string>;
  presign?: boolean;
}

export const REGION = 'us-east-1';

/** The request signed with `keys`: its target (path and query) and headers, as a client sends it. */
export function signAs(keys: AwsTestKeys, input: SignInput): { target: string; headers: [string, string][] } {
  const signed = aws4.sign(
    {
      host: input.host,
      method: input.method,
      path: input.path,
      service: input.service,
      region: REGION,
      headers: { Host: input.host, ...input.headers },
      ...(input.body === undefined ? {} : { body: input.body }),
      ...(input.presign === true ? { signQuery: true } : {}),
    },
    keys,
  );
  const headers = Object.entries(signed.headers ?? {}).map(([n, v]): [string, string] => [n, String(v)]);
  return { target: signed.path ?? '/', headers };
}

export interface Received {
  method: string;
  target: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(',') : (v ?? ''));

/** Why `req` is not signed with `keys`, or undefined when it is (header form or presigned query). */
export function notSignedWith(keys: AwsTestKeys, req: Received): string | undefined {
  const auth = one(req.headers['authorization']);
  if (auth !== '') {
    const m = AUTH.exec(auth);
    if (m === null) return `unreadable Authorization ${auth}`;
    const [, id, , region = '', service = '', signedNames = ''] = m;
    if (id !== keys.accessKeyId) return `signed with access key id ${id}`;
    if (keys.sessionToken !== undefined && one(req.headers['x-amz-security-token']) !== keys.sessionToken) return 'another session token';
    const headers = Object.fromEntries(signedNames.split(';').map((n) => [n, one(req.headers[n])]));
    const signer = new aws4.RequestSigner({ method: req.method, path: req.target, headers, body: req.body, service, region, doNotModifyHeaders: true }, keys);
    signer.datetime = one(req.headers['x-amz-date']);
    return signer.sign().headers?.['Authorization'] === auth ? undefined : 'the signature does not match';
  }
  const url = new URL(req.target, 'https://x');
  const q = url.searchParams;
  const [id, , region = '', service = ''] = (q.get('X-Amz-Credential') ?? '').split('/');
  if (id !== keys.accessKeyId) return `presigned with access key id ${id}`;
  if (keys.sessionToken !== undefined && q.get('X-Amz-Security-Token') !== keys.sessionToken) return 'another session token';
  const got = q.get('X-Amz-Signature');
  q.delete('X-Amz-Signature');
  const signer = new aws4.RequestSigner({ method: req.method, path: `${url.pathname}?${q.toString()}`, headers: { host: one(req.headers['host']) }, service, region, signQuery: true }, keys);
  const want = new URL(signer.sign().path ?? '', 'https://x').searchParams.get('X-Amz-Signature');
  return got !== null && got === want ? undefined : 'the presigned signature does not match';
}
