/**
 * Red team: a credential host that echoes what it was sent into a response's
 * Content-Encoding (httpbin's /response-headers sets any header the query
 * names; here the server copies the Authorization it received there).
 *
 * isolate refuses a coding it cannot decode, and its refusal named the
 * codings as the server wrote them: over HTTPS the command got `502` with
 * `X-Isolate-Denied: ... encoded with <the token, lower-cased>`, which a
 * GitHub token's checksum turns back into the token; over plain HTTP the
 * connection was cut, and the reason, with the token, went to the audit log
 * and the run report. The reasons are now scrubbed as the response is.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { filesUnder, listenAll, makeCerts, stopAll } from '../helpers/credential-site.js';
import { giveTo, homeWithProject, isolateAsync, type Project } from '../helpers/isolate.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;

let certDir: string;
let plain: Server | ReturnType<typeof createHttp>;
let tls: Server;
let PLAIN = 0;
let TLS = 0;

/** Answers with the credential it received as the body's coding (and a body that is not in it). */
const echoCoding = (req: IncomingMessage, res: ServerResponse): void => {
  const auth = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': auth, 'content-length': '3' }).end('abc');
};

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'isolate-it-rtcoding-'));
  makeCerts(certDir);
  plain = createHttp(echoCoding);
  tls = createHttps({ key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.pem')) }, echoCoding);
  [PLAIN = 0, TLS = 0] = await listenAll(plain as Server, tls);
});

afterAll(async () => {
  await stopAll(plain as Server, tls);
  rmSync(certDir, { recursive: true, force: true });
});

describe.each(backendCases('red team: a coding that echoes the token'))('red team: a coding that echoes the token ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let profile: string;
  beforeAll(() => {
    p = homeWithProject(runner);
    copyFileSync(join(certDir, 'ca.pem'), join(p.home, 'test-ca.pem'));
    profile = join(p.home, 'coding.yaml');
    writeFileSync(
      profile,
      [
        'extends: default',
        'network:',
        '  mode: filtered',
        `  allow: ["127.0.0.1:${PLAIN}", "127.0.0.1:${TLS}"]`,
        `  upstreamCa: ${join(p.home, 'test-ca.pem')}`,
        'credentials:',
        `  - { name: GITHUB_TOKEN, from: { env: GITHUB_TOKEN }, hosts: ["127.0.0.1:${PLAIN}", "127.0.0.1:${TLS}"] }`,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  it('the refusal of a coding isolate cannot decode names no value: not to the command, not in the audit log or the report', async () => {
    const lower = TOKEN.toLowerCase();
    const script = [
      `curl -sS -i -H "Authorization: Bearer $GITHUB_TOKEN" https://127.0.0.1:${TLS}/tls; echo`,
      `curl -sS -i -H "Authorization: Bearer $GITHUB_TOKEN" http://127.0.0.1:${PLAIN}/plain; echo "plain: $?"`,
    ].join('\n');
    const report = join(p.home, 'report.json');
    const r = await isolateAsync(runner, ['run', '--backend', backend, '--report', report, '-p', profile, '--', 'sh', '-c', script], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN },
      timeoutMs: 30_000,
    });
    expect(r.stdout, r.stderr).toMatch(/^HTTP\/1\.1 502 /m);
    expect(r.stdout).toMatch(/x-isolate-denied: the upstream response is encoded with /i);
    expect(r.stdout).toMatch(/plain: (52|56)/);
    expect((r.stdout + r.stderr).toLowerCase(), 'the command read the token from the refusal').not.toContain(lower);
    const holding = filesUnder(p.home).filter((f) => f.text.toLowerCase().includes(lower));
    expect(holding.map((f) => f.path), 'a file isolate wrote holds the token').toEqual([]);
    expect(readFileSync(report, 'utf8')).toMatch(/encoded with/);
  });
});
