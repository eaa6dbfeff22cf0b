import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { declaredPayloadHash, hashPayload, resign, signature, signatureMatches, sigV4Params, stringToSign, type SignedRequest } from '../../src/network/credentials/sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const FAKE = { accessKeyId: 'AKIAPLACEHOLDER00001', secretAccessKey: 'placeholderSecretKeyOfFortyCharacters000', sessionToken: 'FwoPlaceholder/Token+xyz=' };
const REAL = { accessKeyId: 'AKIAREALREALREAL0001', secretAccessKey: 'realSecretKeyrealSecretKeyrealSecretKey1', sessionToken: 'FwoRealSessionToken/abc+def==' };

/** The example of the AWS documentation (IAM ListUsers, 2015-08-30). */
const IAM: SignedRequest = {
  method: 'GET',
  target: '/?Action=ListUsers&Version=2010-05-08',
  headers: [
    ['Host', 'iam.amazonaws.com'],
    ['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8'],
    ['X-Amz-Date', '20150830T123600Z'],
    ['Authorization', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7'],
  ],
};

function signWith(keys: typeof FAKE, req: SignedRequest, form: 'header' | 'query'): SignedRequest {
  const scope = '20260101/us-east-1/s3/aws4_request';
  if (form === 'header') {
    const base: SignedRequest = { ...req, headers: [...req.headers, ['X-Amz-Date', '20260101T000000Z'], ['x-amz-security-token', keys.sessionToken], ['Authorization', `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=0`]] };
    const p = sigV4Params(base);
    if (p === undefined) throw new Error('no params');
    const sig = signature(keys.secretAccessKey, scope, stringToSign(base, p, declaredPayloadHash(base, p) ?? '') ?? '');
    return { ...base, headers: base.headers.map(([n, v]) => [n, n === 'Authorization' ? v.replace(/Signature=0$/, `Signature=${sig}`) : v]) };
  }
  const q = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(`${keys.accessKeyId}/${scope}`)}&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-Security-Token=${encodeURIComponent(keys.sessionToken)}&X-Amz-SignedHeaders=host`;
  const base: SignedRequest = { ...req, target: `${req.target}?${q}&X-Amz-Signature=0` };
  const p = sigV4Params(base);
  if (p === undefined) throw new Error('no params');
  return { ...base, target: base.target.replace(/Signature=0$/, `Signature=${signature(keys.secretAccessKey, scope, stringToSign(base, p, 'UNSIGNED-PAYLOAD') ?? '')}`) };
}

function verifies(req: SignedRequest, secret: string): boolean {
  const p = sigV4Params(req);
  if (p === undefined) return false;
  const toSign = stringToSign(req, p, declaredPayloadHash(req, p) ?? hashPayload(Buffer.alloc(0)));
  return toSign !== undefined && signatureMatches(secret, p, toSign);
}

const S3_GET: SignedRequest = { method: 'GET', target: '/bucket/a%20key.txt', headers: [['Host', 'bucket.s3.amazonaws.com'], ['x-amz-content-sha256', 'UNSIGNED-PAYLOAD']] };

describe('SigV4: the signature the proxy checks and makes again', () => {
  it('computes the signature of the AWS documentation example', () => {
    expect(verifies(IAM, SECRET)).toBe(true);
    expect(verifies(IAM, `${SECRET}x`)).toBe(false);
  });

  it('verifies what curl --aws-sigv4 signs (an independent implementation)', async () => {
    let seen: IncomingMessage | undefined;
    let body = Buffer.alloc(0);
    const server = createServer((req, res) => {
      seen = req;
      req.on('data', (c: Buffer) => { body = Buffer.concat([body, c]); });
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const curl = spawn('curl', ['-sS', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${FAKE.accessKeyId}:${FAKE.secretAccessKey}`, '--data', 'hello body', '-H', 'X-Amz-Meta-Note:  two  spaces ', `http://127.0.0.1:${port}/b/k%20y?list-type=2&prefix=a%2Fb`]);
      const code = await new Promise<number | null>((r) => curl.on('close', r));
      expect(code).toBe(0);
    } finally {
      server.close();
    }
    if (seen === undefined) throw new Error('curl sent nothing');
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < seen.rawHeaders.length; i += 2) pairs.push([seen.rawHeaders[i] ?? '', seen.rawHeaders[i + 1] ?? '']);
    const req: SignedRequest = { method: seen.method ?? '', target: seen.url ?? '', headers: pairs };
    const p = sigV4Params(req);
    expect(p?.form).toBe('header');
    const hash = declaredPayloadHash(req, p!) ?? hashPayload(body);
    expect(signatureMatches(FAKE.secretAccessKey, p!, stringToSign(req, p!, hash)!)).toBe(true);
    const out = resign(req, p!, hash, FAKE, REAL);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const again: SignedRequest = { method: req.method, target: out.target, headers: out.headers };
    const q = sigV4Params(again)!;
    expect(q.accessKeyId).toBe(REAL.accessKeyId);
    expect(signatureMatches(REAL.secretAccessKey, q, stringToSign(again, q, hash)!)).toBe(true);
  });

  for (const form of ['header', 'query'] as const) {
    it(`re-signs a ${form}-signed request with the real keys, and nothing of the placeholders is left`, () => {
      const req = signWith(FAKE, S3_GET, form);
      const p = sigV4Params(req)!;
      const out = resign(req, p, declaredPayloadHash(req, p)!, FAKE, REAL);
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      const again: SignedRequest = { method: 'GET', target: out.target, headers: out.headers };
      expect(verifies(again, REAL.secretAccessKey)).toBe(true);
      // What the server gets is what a client holding the real keys would have sent.
      expect(again).toEqual(signWith(REAL, S3_GET, form));
      const text = JSON.stringify(again);
      for (const v of Object.values(FAKE)) expect(text).not.toContain(v);
      expect(text).not.toContain(encodeURIComponent(FAKE.sessionToken));
    });

    it(`refuses a ${form}-signed request whose signature was made with another secret`, () => {
      const req = signWith({ ...FAKE, secretAccessKey: 'wrong' }, S3_GET, form);
      const out = resign(req, sigV4Params(req)!, 'UNSIGNED-PAYLOAD', FAKE, REAL);
      expect(out).toEqual({ ok: false, reason: 'the SigV4 signature was not made with the placeholder secret key' });
    });
  }

  it('refuses a request signed with another key id, or with a signed header missing', () => {
    const other = signWith({ ...FAKE, accessKeyId: 'AKIAOTHER' }, S3_GET, 'header');
    expect(resign(other, sigV4Params(other)!, 'UNSIGNED-PAYLOAD', FAKE, REAL).ok).toBe(false);
    const req = signWith(FAKE, S3_GET, 'header');
    const cut: SignedRequest = { ...req, headers: req.headers.filter(([n]) => n !== 'x-amz-security-token') };
    expect(resign(cut, sigV4Params(cut)!, 'UNSIGNED-PAYLOAD', FAKE, REAL).ok).toBe(false);
  });

  it('finds no params in a request without a SigV4 signature', () => {
    expect(sigV4Params({ method: 'GET', target: '/?X-Amz-Algorithm=other', headers: [['Authorization', 'Bearer x']] })).toBeUndefined();
  });
});
