/**
 * aws credentials without a sandbox: the profile form and the flag, the
 * sources (variables, the credential_process JSON), the placeholder keys,
 * and the vault's check and re-signing of SigV4 requests. Requests are
 * signed and verified by an independent implementation (the aws4 package):
 * signed with the placeholder keys as the command would, verified with the
 * real keys as AWS would.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialFlag, resolveCredentials } from '../../src/profile/credentials.js';
import { computeEnvironment } from '../../src/profile/environment.js';
import { validateProfileDoc } from '../../src/profile/schema.js';
import type { MergedCredential, MergedProfile } from '../../src/profile/types.js';
import { MIN_PLACEHOLDER_BITS, makeAwsPlaceholders } from '../../src/network/credentials/placeholder.js';
import { credentialVariables, type CredentialSpec, type LoadedCredential } from '../../src/network/credentials/spec.js';
import { CredentialVault, type OutgoingRequest } from '../../src/network/credentials/vault.js';
import { loadCredentials } from '../../src/run/credential-sources.js';
import { notSignedWith, signAs, type SignInput } from '../helpers/aws-sigv4.js';

const REAL = { accessKeyId: 'AKIAZ7REALKEY0123456', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYREALSECRET', sessionToken: 'IQoJb3JpZ2luX2VjEREALSESSIONTOKENaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbb+cccccc==' };
const HOST = 'bucket.s3.amazonaws.com';
const dir = mkdtempSync(join(tmpdir(), 'isolate-aws-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (over: Partial<CredentialSpec> = {}): CredentialSpec => ({
  name: 'AWS',
  kind: 'aws',
  source: { kind: 'env', name: 'AWS' },
  hosts: ['*.amazonaws.com'],
  ttlMs: undefined,
  from: 'test: credentials[0]',
  ...over,
});
const filtered = (credentials: MergedCredential[]): Pick<MergedProfile, 'credentials' | 'network' | 'origins'> => ({ credentials, network: { mode: 'filtered', allow: [], deny: [] }, origins: {} });
const ENV = { AWS_ACCESS_KEY_ID: REAL.accessKeyId, AWS_SECRET_ACCESS_KEY: REAL.secretAccessKey, AWS_SESSION_TOKEN: REAL.sessionToken };
const load = (over: Partial<CredentialSpec> = {}, env: Record<string, string> = ENV): LoadedCredential => {
  const [c] = loadCredentials([spec(over)], env, '/', () => ({ open: undefined, shown: '' }));
  if (c === undefined) throw new Error('nothing loaded');
  return c;
};

/** What the proxy hands the vault for a request the command signed with `c`'s placeholder keys. */
function signed(c: LoadedCredential, input: Partial<SignInput> = {}, host = HOST): OutgoingRequest {
  const s = signAs(c.aws?.placeholder ?? REAL, { host, method: 'GET', path: '/key.txt', service: 's3', ...input });
  return { method: input.method ?? 'GET', host, port: 443, target: s.target, headers: s.headers, tls: true };
}

/** Whether the vault's output is what AWS would accept from the real keys. */
function acceptedByAws(r: ReturnType<CredentialVault['rewrite']>, req: OutgoingRequest, body = Buffer.alloc(0)): string | undefined {
  if (!r.ok) return `refused: ${r.reason}`;
  const headers = Object.fromEntries(r.headers.map(([n, v]) => [n.toLowerCase(), v]));
  return notSignedWith(REAL, { method: req.method, target: r.target, headers, body });
}

describe('aws credentials: profile, flag and sources', () => {
  it('the profile takes kind aws; an unknown kind or two credentials with one variable are errors', () => {
    const ok = { name: 'AWS', kind: 'aws', from: { env: 'AWS' }, hosts: ['*.amazonaws.com'] };
    expect(validateProfileDoc({ credentials: [ok] })).toMatchObject({ ok: true });
    expect(validateProfileDoc({ credentials: [{ ...ok, kind: 'gcp' }] })).toMatchObject({ ok: false });
    const clash = validateProfileDoc({ credentials: [ok, { name: 'AWS_SESSION_TOKEN', from: { env: 'X' }, hosts: ['a.example'] }] });
    expect(clash.ok).toBe(false);
    expect(JSON.stringify(clash)).toContain('credential AWS_SESSION_TOKEN is defined twice');
  });

  it('--credential aws:PREFIX@hosts names an aws credential read from PREFIX_*', () => {
    expect(credentialFlag('aws:AWS@s3.amazonaws.com,sts.amazonaws.com', 0)).toEqual({ name: 'AWS', kind: 'aws', from: { env: 'AWS' }, hosts: ['s3.amazonaws.com', 'sts.amazonaws.com'], origin: '--credential[0]' });
    expect(() => credentialFlag('aws:@s3.amazonaws.com', 0)).toThrow(/expected NAME@host/);
    const policy = resolveCredentials(filtered([credentialFlag('aws:AWS@s3.amazonaws.com', 0)]), (p) => p);
    expect(policy.credentials?.[0]?.kind).toBe('aws');
  });

  it('an aws credential and a token that would set the same variable (through extends or a flag) stop the run', () => {
    const token = { name: 'AWS_SECRET_ACCESS_KEY', from: { env: 'X' }, hosts: ['a.example'], origin: '/p/base.yaml: credentials[0]' };
    const resolve = (): unknown => resolveCredentials(filtered([token, credentialFlag('aws:AWS@s3.amazonaws.com', 0)]), (p) => p);
    expect(resolve).toThrow('--credential[0]: the variable AWS_SECRET_ACCESS_KEY is also set by /p/base.yaml: credentials[0]');
  });

  it('reads PREFIX_ACCESS_KEY_ID, PREFIX_SECRET_ACCESS_KEY and the optional PREFIX_SESSION_TOKEN', () => {
    expect(load().aws?.real).toEqual(REAL);
    const { AWS_SESSION_TOKEN: _, ...noToken } = ENV;
    expect(load({}, noToken).aws?.real).toEqual({ accessKeyId: REAL.accessKeyId, secretAccessKey: REAL.secretAccessKey });
    expect(() => load({}, { AWS_ACCESS_KEY_ID: REAL.accessKeyId })).toThrow(/yielded nothing/);
  });

  it('a command prints the JSON of aws configure export-credentials --format process; anything else stops the run', () => {
    const json = JSON.stringify({ Version: 1, AccessKeyId: REAL.accessKeyId, SecretAccessKey: REAL.secretAccessKey, SessionToken: REAL.sessionToken, Expiration: '2030-01-01T00:00:00Z' });
    writeFileSync(join(dir, 'good.json'), json);
    writeFileSync(join(dir, 'bad.json'), `{"AccessKeyId":"${REAL.accessKeyId}"}`);
    const c = load({ source: { kind: 'command', argv: ['cat', join(dir, 'good.json')] } });
    expect(c.aws?.real).toEqual(REAL);
    expect(load({ source: { kind: 'file', path: join(dir, 'good.json') } }).aws?.real).toEqual(REAL);
    let message = '';
    try {
      load({ source: { kind: 'command', argv: ['cat', join(dir, 'bad.json')] } });
    } catch (e: unknown) {
      message = String(e);
    }
    expect(message).toMatch(/credential_process form/);
    expect(message).not.toContain(REAL.accessKeyId);
  });

  it('placeholder keys: the key id keeps AKIA/ASIA and its length; the secret and token carry >= 128 random bits', () => {
    const p = makeAwsPlaceholders(REAL);
    expect(p.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(makeAwsPlaceholders({ ...REAL, accessKeyId: 'ASIAQWERTYUIOPASDFGH' }).accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(p.secretAccessKey).toHaveLength(REAL.secretAccessKey.length);
    expect(p.secretAccessKey).not.toBe(REAL.secretAccessKey);
    expect(p.sessionToken).toHaveLength(REAL.sessionToken.length);
    const letters = [...p.secretAccessKey].filter((ch) => /[A-Za-z]/.test(ch)).length;
    expect(letters * Math.log2(26)).toBeGreaterThanOrEqual(MIN_PLACEHOLDER_BITS);
    expect(makeAwsPlaceholders(REAL).secretAccessKey).not.toBe(p.secretAccessKey);
  });

  it('the command gets the three variables with placeholders; without a session token, the caller\'s is never passed', () => {
    const c = load();
    const rules = { pass: ['AWS_*'], set: {}, secrets: [] };
    const env = computeEnvironment(rules, ENV, credentialVariables(c)).env;
    expect(env).toEqual({ AWS_ACCESS_KEY_ID: c.aws?.placeholder.accessKeyId, AWS_SECRET_ACCESS_KEY: c.aws?.placeholder.secretAccessKey, AWS_SESSION_TOKEN: c.aws?.placeholder.sessionToken });
    const { AWS_SESSION_TOKEN: _, ...noToken } = ENV;
    const bare = load({}, noToken);
    expect(computeEnvironment(rules, ENV, credentialVariables(bare)).env).not.toHaveProperty('AWS_SESSION_TOKEN');
  });
});

describe('aws credentials: the vault checks the placeholder signature and signs again', () => {
  it('a header-signed request (UNSIGNED-PAYLOAD) is signed again with the real keys and session token; the secret never travels', () => {
    const c = load();
    const v = new CredentialVault([c]);
    const req = signed(c, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(v.bodyNeeded(req)).toBe(false);
    const r = v.rewrite(req);
    expect(acceptedByAws(r, req)).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain(REAL.secretAccessKey);
    expect(JSON.stringify(r)).not.toContain(c.aws?.placeholder.sessionToken);
    expect(v.events).toEqual([{ time: expect.any(String), name: 'AWS', kind: 'injected', host: HOST, port: 443, method: 'GET', path: '/key.txt' }]);
  });

  it('asks for an uncompressed response (so it can be scrubbed) unless the signature covers Accept-Encoding', () => {
    const c = load();
    const v = new CredentialVault([c]);
    const unsigned = signed(c, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    const gzip = { ...unsigned, headers: [...unsigned.headers, ['Accept-Encoding', 'gzip']] as [string, string][] };
    const r = v.rewrite(gzip);
    expect(acceptedByAws(r, gzip)).toBeUndefined();
    expect(r.ok && r.headers.filter(([n]) => n.toLowerCase() === 'accept-encoding')).toEqual([['Accept-Encoding', 'identity']]);
    const covered = signed(c, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'Accept-Encoding': 'gzip' } });
    const kept = v.rewrite(covered);
    expect(acceptedByAws(kept, covered)).toBeUndefined();
    expect(kept.ok && kept.headers.filter(([n]) => n.toLowerCase() === 'accept-encoding')).toEqual([['Accept-Encoding', 'gzip']]);
  });

  it('a presigned URL is signed again in its query', () => {
    const c = load();
    const v = new CredentialVault([c]);
    const req = signed(c, { presign: true, path: '/key.txt?versionId=3' });
    const r = v.rewrite(req);
    expect(acceptedByAws(r, req)).toBeUndefined();
    expect(r.ok && r.target).toContain(`X-Amz-Credential=${REAL.accessKeyId}`);
    expect(v.events[0]?.path).toBe('/key.txt');
  });

  it('a body is hashed: the declared x-amz-content-sha256 must match it, and a service that declares none gets it hashed', () => {
    const c = load();
    const v = new CredentialVault([c]);
    const body = Buffer.from('Action=GetCallerIdentity&Version=2011-06-15');
    const sts = signed(c, { method: 'POST', path: '/', service: 'sts', body }, 'sts.amazonaws.com');
    expect(v.bodyNeeded(sts)).toBe(true);
    expect(acceptedByAws(v.rewrite(sts, body), sts, body)).toBeUndefined();
    expect(v.rewrite(sts, Buffer.from('Action=DeleteEverything'))).toMatchObject({ ok: false, reason: expect.stringMatching(/not made with the placeholder secret/) });
    const hash = createHash('sha256').update(body).digest('hex');
    const put = signed(c, { method: 'PUT', body, headers: { 'x-amz-content-sha256': hash } });
    expect(v.bodyNeeded(put)).toBe(true);
    expect(acceptedByAws(v.rewrite(put, body), put, body)).toBeUndefined();
    expect(v.rewrite(put, Buffer.from('another body'))).toMatchObject({ ok: false, reason: expect.stringMatching(/x-amz-content-sha256 does not match the SHA-256 of the body/) });
    expect(v.rewrite(put, undefined)).toMatchObject({ ok: false, reason: expect.stringMatching(/up to 32 MiB/) });
  });

  it('chunk-signed uploads are refused, naming what to do; unsigned streaming (trailer checksums) passes', () => {
    const c = load();
    const v = new CredentialVault([c]);
    const chunked = signed(c, { method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' } });
    expect(v.rewrite(chunked)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not re-sign chunk-signed \(streaming\) uploads; sign the payload as UNSIGNED-PAYLOAD/) });
    const trailer = signed(c, { method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' } });
    expect(acceptedByAws(v.rewrite(trailer), trailer)).toBeUndefined();
  });

  it('refuses and records: a signature not made with the placeholder secret, a placeholder without a signature, another host, plain http, after the ttl', () => {
    let now = 1_000_000;
    const c = load({ ttlMs: 60_000 });
    const v = new CredentialVault([c], () => now);
    const ph = c.aws?.placeholder ?? REAL;
    const forged = signAs({ ...ph, secretAccessKey: 'guessedSecretKeyguessedSecretKeyguessedS' }, { host: HOST, method: 'GET', path: '/', service: 's3', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(v.rewrite({ method: 'GET', host: HOST, port: 443, target: forged.target, headers: forged.headers, tls: true })).toMatchObject({ ok: false, reason: expect.stringMatching(/not made with the placeholder secret key/) });
    expect(v.rewrite({ method: 'GET', host: HOST, port: 443, target: '/', headers: [['x-amz-security-token', ph.sessionToken ?? '']], tls: true })).toMatchObject({ ok: false, reason: expect.stringMatching(/no SigV4 signature/) });
    const elsewhere = signed(c, {}, 'evil.example');
    expect(v.rewrite(elsewhere)).toMatchObject({ ok: false, reason: expect.stringMatching(/sent to evil\.example:443/) });
    expect(v.rewrite({ ...signed(c), port: 80, tls: false })).toMatchObject({ ok: false, reason: expect.stringMatching(/signs requests over https only/) });
    expect(v.rewrite({ method: 'POST', host: 'evil.example', port: 443, target: '/', headers: [['x-leak', ph.secretAccessKey]], tls: true }).ok).toBe(false);
    now += 60_000;
    expect(v.rewrite(signed(c, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
    expect(v.events.map((e) => e.kind)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused', 'refused']);
    const recorded = JSON.stringify(v.events);
    for (const secret of [REAL.secretAccessKey, REAL.sessionToken, REAL.accessKeyId, ph.secretAccessKey]) expect(recorded).not.toContain(secret);
  });

  it('a response that echoes the real key id or session token reaches the command with the placeholders', () => {
    const c = load();
    const v = new CredentialVault([c]);
    const s = v.responseScrubber();
    const out = Buffer.concat([...s.push(Buffer.from(`<AWSAccessKeyId>${REAL.accessKeyId}</AWSAccessKeyId><T>${REAL.sessionToken.slice(0, 9)}`)), ...s.push(Buffer.from(`${REAL.sessionToken.slice(9)}</T>`)), s.flush()]).toString();
    expect(out).toBe(`<AWSAccessKeyId>${c.aws?.placeholder.accessKeyId}</AWSAccessKeyId><T>${c.aws?.placeholder.sessionToken}</T>`);
  });
});
