/**
 * aws credentials in real sandboxes: the command gets placeholder keys and
 * signs with them (a Python SigV4 client written from the public
 * algorithm); isolate's proxy checks each signature and signs again with
 * the real keys; a loopback HTTPS server checks the result with the real
 * keys through another implementation (aws4), as AWS would. Header-signed
 * and presigned requests pass; a body that does not match its hash, a
 * chunk-signed upload, a forged signature and another host are refused and
 * recorded. The real secret key and session token are nowhere in the
 * sandbox, its output, or any file isolate wrote. Under bubblewrap, and
 * nsjail where it is installed; as root and as an unprivileged user.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notSignedWith } from '../helpers/aws-sigv4.js';
import { filesUnder, listenAll, makeCerts, stopAll } from '../helpers/credential-site.js';
import { TEMP_PREFIX, giveTo, homeWithProject, isolateAsync, type Project, type Result } from '../helpers/isolate.js';
import { backendCases, type BackendCase } from '../helpers/backends.js';

const alnum = (n: number): string => randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);
const REAL = {
  accessKeyId: `ASIA${alnum(16).toUpperCase()}`,
  secretAccessKey: `${alnum(30)}/${alnum(9)}`,
  sessionToken: `IQoJb3JpZ2luX2Vj${alnum(120)}+${alnum(40)}==`,
};
const SECRETS = [REAL.secretAccessKey, REAL.sessionToken];

interface Seen {
  url: string;
  verdict: string;
}

let certDir: string;
let aws: Server;
let other: Server;
let plain: HttpServer;
let AWS = 0;
let OTHER = 0;
let PLAIN = 0;
const seen: Seen[] = [];
const otherSeen: Seen[] = [];

/** A server that answers as AWS would: 200 for a request signed with the real keys, 403 naming why not. */
function verifying(log: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const why = notSignedWith(REAL, { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers, body: Buffer.concat(parts) });
      log.push({ url: (req.url ?? '').split('?')[0] ?? '', verdict: why ?? 'signed with the real keys' });
      res.writeHead(why === undefined ? 200 : 403).end(why === undefined ? `ok, key ${REAL.accessKeyId}` : why);
    });
  };
}

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}aws-`));
  makeCerts(certDir);
  const tls = { key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.pem')) };
  aws = createServer(tls, verifying(seen));
  other = createServer(tls, verifying(otherSeen));
  plain = createHttpServer(verifying(otherSeen));
  [AWS = 0, OTHER = 0, PLAIN = 0] = await listenAll(aws, other, plain);
});

afterAll(async () => {
  await stopAll(aws, other, plain);
  rmSync(certDir, { recursive: true, force: true });
});

interface Report {
  exitCode: number;
  stdout: string;
  stderr: string;
  network: { credentials?: { events: { name: string; kind: string; host: string; port: number; method: string; path: string; reason?: string }[]; misuse: number } };
}

describe.each(backendCases('aws credentials'))('aws credentials ($label)', ({ runner, backend, backendEnv }: BackendCase) => {
  let p: Project;
  let profile: string;
  let fromCommand: string;
  let keysDir: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    copyFileSync(join(certDir, 'ca.pem'), join(p.home, 'test-ca.pem'));
    copyFileSync(join(certDir, 'ca.pem'), join(p.project, 'test-ca.pem'));
    copyFileSync(new URL('../helpers/sigv4-client.py', import.meta.url), join(p.project, 'sigv4.py'));
    profile = join(p.home, 'aws.yaml');
    const lines = [
      'extends: default',
      'network:',
      '  mode: filtered',
      `  allow: ["127.0.0.1:${AWS}", "127.0.0.1:${OTHER}", "127.0.0.1:${PLAIN}"]`,
      `  upstreamCa: ${join(p.home, 'test-ca.pem')}`,
      'credentials:',
      `  - { name: AWS, kind: aws, from: { env: AWS }, hosts: ["127.0.0.1:${AWS}"] }`,
      '',
    ];
    writeFileSync(profile, lines.join('\n'), { mode: 0o644 });
    // The keys as `aws configure export-credentials --format process` prints them, outside the tree scanned for them.
    keysDir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}aws-keys-`));
    writeFileSync(join(keysDir, 'keys.json'), JSON.stringify({ Version: 1, AccessKeyId: REAL.accessKeyId, SecretAccessKey: REAL.secretAccessKey, SessionToken: REAL.sessionToken }));
    giveTo(runner, keysDir);
    fromCommand = join(p.home, 'aws-command.yaml');
    writeFileSync(fromCommand, lines.join('\n').replace('from: { env: AWS }', `from: { command: [cat, "${join(keysDir, 'keys.json')}"] }`), { mode: 0o644 });
    giveTo(runner, p.home);
  });
  afterAll(() => {
    p.cleanup();
    rmSync(keysDir, { recursive: true, force: true });
  });

  /** A run with the profile `prof`; the real keys are in isolate's environment unless the profile reads them from a command. */
  async function run(script: string, prof = profile): Promise<Result & { report: Report }> {
    const keys = prof === profile ? { AWS_ACCESS_KEY_ID: REAL.accessKeyId, AWS_SECRET_ACCESS_KEY: REAL.secretAccessKey, AWS_SESSION_TOKEN: REAL.sessionToken } : {};
    const r = await isolateAsync(runner, ['run', '--json', '--backend', backend, '-p', prof, '--', 'sh', '-c', script], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state'), ...keys },
      timeoutMs: 30_000,
    });
    for (const secret of SECRETS) expect(r.stdout + r.stderr, "a real key reached the command or isolate's output").not.toContain(secret);
    return { ...r, report: JSON.parse(r.stdout) as Report };
  }

  it('requests signed with the placeholder keys reach the server signed with the real ones; the rest is refused and recorded', async () => {
    const before = seen.length;
    const cases = ['sts', 's3-get', 's3-put', 'presigned', 'hash-mismatch', 'streaming', 'forged'];
    const r = await run(`env | grep -E '^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=' | sort; python3 sigv4.py https://127.0.0.1:${AWS} ${cases.join(' ')}`);
    expect(r.report.exitCode, r.report.stderr).toBe(0);
    const [id, secret, token, ...results] = r.report.stdout.trimEnd().split('\n');
    expect(id).toMatch(/^AWS_ACCESS_KEY_ID=ASIA[A-Z0-9]{16}$/);
    expect(id).not.toContain(REAL.accessKeyId);
    expect(secret).toMatch(new RegExp(`^AWS_SECRET_ACCESS_KEY=.{${REAL.secretAccessKey.length}}$`));
    expect(token).toMatch(new RegExp(`^AWS_SESSION_TOKEN=.{${REAL.sessionToken.length}}$`));
    const ok = `200 ok, key ${id?.slice('AWS_ACCESS_KEY_ID='.length) ?? ''}`;
    expect(results).toEqual([
      `sts ${ok}`,
      `s3-get ${ok}`,
      `s3-put ${ok}`,
      `presigned ${ok}`,
      'hash-mismatch 403 credential AWS (aws): x-amz-content-sha256 does not match the SHA-256 of the body; the request was not re-signed',
      expect.stringMatching(/^streaming 403 credential AWS \(aws\): x-amz-content-sha256 STREAMING-AWS4-HMAC-SHA256-PAYLOAD: isolate does not re-sign chunk-signed \(streaming\) uploads/),
      'forged 403 credential AWS (aws): the SigV4 signature was not made with the placeholder secret key; the request was not re-signed',
    ]);
    expect(seen.slice(before)).toEqual(['/', '/bucket/key.txt', '/bucket/put.txt', '/bucket/shared.txt'].map((url) => ({ url, verdict: 'signed with the real keys' })));
    const events = r.report.network.credentials?.events ?? [];
    expect(events.map((e) => [e.kind, e.method, e.path])).toEqual([
      ['injected', 'POST', '/'],
      ['injected', 'GET', '/bucket/key.txt'],
      ['injected', 'PUT', '/bucket/put.txt'],
      ['injected', 'GET', '/bucket/shared.txt'],
      ['refused', 'PUT', '/bucket/put.txt'],
      ['refused', 'PUT', '/bucket/put.txt'],
      ['refused', 'GET', '/bucket/key.txt'],
    ]);
    expect(events.every((e) => e.name === 'AWS' && e.host === '127.0.0.1' && e.port === AWS)).toBe(true);
    expect(r.report.network.credentials?.misuse).toBe(3);
  });

  it('signed for another host: refused and recorded over plain http; inside an opaque tunnel it arrives signed with worthless placeholder keys', async () => {
    const before = otherSeen.length;
    // The other server is not a credential host: its tunnel stays opaque, and the client trusts the test CA to reach it.
    const r = await run(`python3 sigv4.py http://127.0.0.1:${PLAIN} s3-get; SSL_CERT_FILE=test-ca.pem python3 sigv4.py https://127.0.0.1:${OTHER} s3-get`);
    const [plainLine, tunnelLine] = r.report.stdout.trimEnd().split('\n');
    expect(plainLine).toMatch(new RegExp(`^s3-get 403 the placeholder of credential AWS was sent to 127\\.0\\.0\\.1:${PLAIN}; it is only added for 127\\.0\\.0\\.1:${AWS}`));
    expect(r.report.network.credentials?.events).toMatchObject([{ kind: 'refused', port: PLAIN, path: '/bucket/key.txt' }]);
    expect(tunnelLine).toMatch(/^s3-get 403 signed with access key id ASIA[A-Z0-9]{16}$/);
    expect(otherSeen.slice(before).map((s) => s.url)).toEqual(['/bucket/key.txt']);
  });

  it('keys from a command printing the credential_process JSON (aws configure export-credentials) sign as well', async () => {
    const before = seen.length;
    const r = await run(`python3 sigv4.py https://127.0.0.1:${AWS} sts presigned`, fromCommand);
    expect(r.report.exitCode, r.report.stderr).toBe(0);
    expect(r.report.stdout).toMatch(/^sts 200 ok, key ASIA[A-Z0-9]{16}\npresigned 200 ok, key ASIA[A-Z0-9]{16}\n$/);
    expect(seen.slice(before).map((s) => s.verdict)).toEqual(['signed with the real keys', 'signed with the real keys']);
  });

  it('no process environment or proxy file in the sandbox, and no file isolate wrote, holds a real key; the audit log records the injections', async () => {
    // run() fails when the output (every environment in the sandbox's /proc, the proxy's directory) holds a real key.
    const r = await run(`python3 sigv4.py https://127.0.0.1:${AWS} s3-get; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; cat /run/isolate/ca-bundle.pem`);
    expect(r.report.stdout).toContain('s3-get 200 ok');
    expect(r.report.stdout).toContain('AWS_SECRET_ACCESS_KEY=');
    const files = filesUnder(p.home);
    expect(files.filter((f) => SECRETS.some((s) => f.text.includes(s)) || f.text.includes(REAL.accessKeyId)).map((f) => f.path)).toEqual([]);
    expect(files.some((f) => f.path.endsWith('audit.jsonl') && f.text.includes('"kind":"injected"') && f.text.includes('"name":"AWS"'))).toBe(true);
  });
});
