/**
 * Credentials without a sandbox: the profile schema and the --credential
 * flag, the trust rule for sources that act on the host, the filtered-only
 * rule, the placeholders, the vault's rewrite of a request (hosts, ttl,
 * Basic authorization, misuse) and the scrubbing of responses.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialFlag, resolveCredentials } from '../../src/profile/credentials.js';
import { validateProfileDoc } from '../../src/profile/schema.js';
import { checkTrusted, hostActingKeys } from '../../src/profile/trust.js';
import type { MergedProfile } from '../../src/profile/types.js';
import { MIN_PLACEHOLDER_BITS, makePlaceholder, prefixOf } from '../../src/network/credentials/placeholder.js';
import { replacementsFor, scrubber } from '../../src/network/credentials/scrub.js';
import type { CredentialSpec, LoadedCredential } from '../../src/network/credentials/spec.js';
import { CredentialVault } from '../../src/network/credentials/vault.js';
import { loadCredentials, readUpstreamCa } from '../../src/run/credential-sources.js';

const TOKEN = 'ghp_R3alT0kenValue0123456789abcdefABCDEF';
const dir = mkdtempSync(join(tmpdir(), 'isolate-cred-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (over: Partial<CredentialSpec> = {}): CredentialSpec => ({
  name: 'GITHUB_TOKEN',
  source: { kind: 'env', name: 'GITHUB_TOKEN' },
  hosts: ['api.github.com'],
  ttlMs: undefined,
  from: 'test: credentials[0]',
  ...over,
});
const loaded = (over: Partial<CredentialSpec> = {}, value = TOKEN): LoadedCredential => ({ spec: spec(over), value, placeholder: makePlaceholder(value) });

describe('profile: credentials', () => {
  const ok = { name: 'GITHUB_TOKEN', from: { env: 'GITHUB_TOKEN' }, hosts: ['api.github.com'], ttl: '15m' };

  it('accepts env, file and command sources', () => {
    for (const from of [{ env: 'X' }, { file: '~/.config/isolate/gh-token' }, { command: ['gh', 'auth', 'token'] }]) {
      expect(validateProfileDoc({ credentials: [{ ...ok, from }] })).toMatchObject({ ok: true });
    }
  });

  it('refuses unknown keys, a bad source, no hosts, a bad host, a bad ttl and a name defined twice, naming the key path', () => {
    const issues = (doc: unknown): string[] => {
      const r = validateProfileDoc(doc);
      return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
    };
    expect(issues({ credentials: [{ ...ok, value: 'x' }] })).toEqual(['credentials[0].value: unknown key']);
    expect(issues({ credentials: [{ ...ok, from: { vault: 'x' } }] })[0]).toMatch(/^credentials\[0\]\.from: expected one of \{ env: NAME \}/);
    expect(issues({ credentials: [{ ...ok, hosts: [] }] })[0]).toMatch(/^credentials\[0\]\.hosts: expected at least one host/);
    expect(issues({ credentials: [{ ...ok, hosts: ['a b'] }] })[0]).toMatch(/^credentials\[0\]\.hosts\[0\]: /);
    expect(issues({ credentials: [{ ...ok, ttl: 'soon' }] })[0]).toMatch(/^credentials\[0\]\.ttl: /);
    expect(issues({ credentials: [ok, ok] })).toEqual(['credentials[1].name: credential GITHUB_TOKEN is defined twice']);
    expect(issues({ credentials: [{ ...ok, name: 'A-B' }] })[0]).toMatch(/^credentials\[0\]\.name: expected an environment variable name/);
  });

  it('file and command sources act on the host: only from a profile that is yours and writable by no one else', () => {
    const doc = { credentials: [ok, { ...ok, name: 'B', from: { file: '/x' } }, { ...ok, name: 'C', from: { command: ['true'] } }] };
    expect(hostActingKeys(doc)).toEqual(['credentials[1].from', 'credentials[2].from']);
    const file = join(dir, 'shared.yaml');
    writeFileSync(file, '');
    chmodSync(file, 0o666);
    expect(() => checkTrusted(file, hostActingKeys(doc), statSync(file))).toThrow(/credentials\[1\]\.from, credentials\[2\]\.from make isolate act on the host, and this profile is writable by others/);
    chmodSync(file, 0o644);
    expect(() => checkTrusted(file, hostActingKeys(doc), statSync(file))).not.toThrow();
  });

  it('--credential NAME@host[,host] takes the value from the caller\'s NAME; a malformed one is a usage error', () => {
    expect(credentialFlag('GITHUB_TOKEN@api.github.com,github.com', 0)).toEqual({
      name: 'GITHUB_TOKEN',
      from: { env: 'GITHUB_TOKEN' },
      hosts: ['api.github.com', 'github.com'],
      origin: '--credential[0]',
    });
    for (const bad of ['GITHUB_TOKEN', 'GITHUB_TOKEN@', '1X@h', '@host']) expect(() => credentialFlag(bad, 0)).toThrow(/expected NAME@host/);
    expect(() => credentialFlag('X@a b', 0)).toThrow(/not a host name/);
  });

  it('needs the filtered network (125, with the fix), and resolves file paths and the ttl', () => {
    const profile = (mode: 'none' | 'host' | 'filtered'): Pick<MergedProfile, 'credentials' | 'network' | 'origins'> => ({
      credentials: [{ name: 'T', from: { file: '~/tok' }, hosts: ['h.example'], ttl: '15m', origin: 'p.yaml: credentials[0]' }],
      network: { mode, allow: [], deny: [] },
      origins: { 'network.mode': 'p.yaml: network.mode' },
    });
    for (const mode of ['none', 'host'] as const) {
      expect(() => resolveCredentials(profile(mode), (p) => p)).toThrow(expect.objectContaining({ exitCode: 125, message: expect.stringMatching(/credentials need network\.mode: filtered/) }));
    }
    expect(resolveCredentials(profile('filtered'), (p) => p.replace('~', '/home/u')).credentials).toEqual([
      { name: 'T', source: { kind: 'file', path: '/home/u/tok' }, hosts: ['h.example'], ttlMs: 900_000, from: 'p.yaml: credentials[0]' },
    ]);
  });
});

describe('credential sources', () => {
  it('reads the caller\'s variable, a file (without its final newline) and a command\'s output', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const got = loadCredentials(
      [spec(), spec({ name: 'F', source: { kind: 'file', path: file } }), spec({ name: 'C', source: { kind: 'command', argv: ['printf', '%s\\n', TOKEN] } })],
      { GITHUB_TOKEN: TOKEN, PATH: '/usr/bin:/bin' },
      dir,
      () => ({ open: undefined, shown: '' }),
    );
    expect(got.map((c) => c.value)).toEqual([TOKEN, TOKEN, TOKEN]);
    expect(new Set(got.map((c) => c.placeholder)).size).toBe(3);
  });

  it('a source that fails or yields nothing, or a value that is not one short line, stops the run (125) without showing the value', () => {
    const env = { PATH: '/usr/bin:/bin' };
    const refused = (s: CredentialSpec, e: Record<string, string> = env): string => {
      try {
        loadCredentials([s], e, dir, () => ({ open: undefined, shown: '' }));
      } catch (err: unknown) {
        expect(err).toMatchObject({ code: 'E_CREDENTIAL', exitCode: 125 });
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(spec())).toMatch(/the source yielded nothing; the command was not run/);
    expect(refused(spec({ source: { kind: 'file', path: join(dir, 'missing') } }))).toMatch(/cannot read .*ENOENT/);
    expect(refused(spec({ source: { kind: 'command', argv: ['false'] } }))).toMatch(/the command failed \(exit 1\)/);
    expect(refused(spec({ source: { kind: 'command', argv: ['/nonexistent/gh'] } }))).toMatch(/its program \/nonexistent\/gh is not found/);
    expect(refused(spec(), { GITHUB_TOKEN: 'two words here' })).toMatch(/not one line of visible ASCII/);
    expect(refused(spec(), { GITHUB_TOKEN: 'short' })).toMatch(/shorter than 8/);
    expect(refused(spec(), { GITHUB_TOKEN: `${TOKEN}\nX-Injected: 1` })).not.toContain(TOKEN);
  });

  it('a command that fails after printing the value: the stderr line quoted in the error shows it, and any token of a known shape, as <redacted>', () => {
    const plain = 'Zq8mPlainVaultTok3nNoShape';
    const script = `printf '%s\\n' ${plain}; echo "error: token ${plain} expired; also ${TOKEN}" >&2; exit 3`;
    let message = '';
    try {
      loadCredentials([spec({ source: { kind: 'command', argv: ['sh', '-c', script] } })], { PATH: '/usr/bin:/bin' }, dir, () => ({ open: undefined, shown: '' }));
    } catch (err: unknown) {
      message = (err as Error).message.slice((err as Error).message.indexOf('): ') + 3);
    }
    expect(message).toBe('the command failed (exit 3): error: token <redacted> expired; also <redacted>; the command was not run');
  });

  it('a file source or upstream CA that is a named pipe or a device is refused at once, never waited on or read without end', () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const path of [fifo, '/dev/zero']) {
      expect(() => loadCredentials([spec({ source: { kind: 'file', path } })], {}, dir, () => ({ open: undefined, shown: '' }))).toThrow(`cannot read ${path}: not a regular file`);
      expect(() => readUpstreamCa(path)).toThrow(`network.upstreamCa: cannot read ${path}: not a regular file`);
    }
  });
});

describe('placeholders', () => {
  it.each([
    ['ghp_', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
    ['github_pat_', `github_pat_11ABCDEFG0${'a1B2c3D4e5'.repeat(8)}`],
    ['glpat-', 'glpat-AbCdEfGhIjKlMnOpQrSt'],
    ['sk-', `sk-${'Ab1'.repeat(16)}`],
    ['xoxb-', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'],
    ['AKIA', 'AKIAIOSFODNN7EXAMPLE'],
    ['npm_', 'npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'],
  ])('keep the %s prefix, differ from the value and from each other', (prefix, value) => {
    const a = makePlaceholder(value);
    const b = makePlaceholder(value);
    expect(prefixOf(value)).toBe(prefix);
    expect(a.startsWith(prefix)).toBe(true);
    expect(a).not.toBe(value);
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(value.length);
  });

  it('keep the length and the character class of each place when that carries 128 bits', () => {
    const value = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
    const p = makePlaceholder(value);
    expect(p).toHaveLength(value.length);
    expect(p.slice(4).replace(/\d/g, '0').replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A')).toBe(value.slice(4).replace(/\d/g, '0').replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A'));
  });

  it('a value too short or too plain for 128 bits gets a longer placeholder of letters and digits', () => {
    const p = makePlaceholder('AKIAIOSFODNN7EXAMPLE');
    const bits = (p.length - 4) * Math.log2(62);
    expect(bits).toBeGreaterThanOrEqual(MIN_PLACEHOLDER_BITS);
    expect(p).toMatch(/^AKIA[A-Za-z0-9]+$/);
  });
});

describe('the vault', () => {
  const req = (host: string, headers: [string, string][], target = '/user', port = 443, tls = true) => ({ method: 'GET', host, port, target, headers, tls });

  it('puts the value into a header or the target for the credential\'s hosts, and records the injection without the query', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    const h = v.rewrite(req('api.github.com', [['Authorization', `token ${c.placeholder}`], ['Accept', '*/*']], '/repos?page=2'));
    expect(h).toEqual({ ok: true, target: '/repos?page=2', headers: [['Authorization', `token ${TOKEN}`], ['Accept', '*/*'], ['Accept-Encoding', 'identity']], injected: ['GITHUB_TOKEN'] });
    const t = v.rewrite(req('api.github.com', [['Accept', '*/*']], `/repos?access_token=${c.placeholder}`));
    expect(t).toEqual({ ok: true, target: `/repos?access_token=${TOKEN}`, headers: [['Accept', '*/*'], ['Accept-Encoding', 'identity']], injected: ['GITHUB_TOKEN'] });
    expect(v.events).toEqual([
      { time: expect.any(String), name: 'GITHUB_TOKEN', kind: 'injected', host: 'api.github.com', port: 443, method: 'GET', path: '/repos' },
      { time: expect.any(String), name: 'GITHUB_TOKEN', kind: 'injected', host: 'api.github.com', port: 443, method: 'GET', path: '/repos' },
    ]);
    // The time of day it happened (the ttl's clock counts from the process's start).
    for (const e of v.events) expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);
    expect(JSON.stringify(v.events)).not.toContain(TOKEN);
  });

  it('refuses a placeholder in more than one place of a request (the second is data the host could keep and give back)', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    const auth: [string, string] = ['Authorization', `token ${c.placeholder}`];
    const basic: [string, string] = ['Authorization', `Basic ${Buffer.from(`x:${c.placeholder}`).toString('base64')}`];
    for (const [headers, target] of [
      [[auth], `/repos?access_token=${c.placeholder}`],
      [[auth], `/repos/me/r/contents/${c.placeholder}.txt`],
      [[auth, ['X-Title', c.placeholder]], '/issues'],
      [[basic, ['X-Title', c.placeholder]], '/issues'],
      [[], `/bot${c.placeholder}/sendMessage?text=${c.placeholder}`],
    ] as [[string, string][], string][]) {
      expect(v.rewrite(req('api.github.com', headers, target)), target).toEqual({ ok: false, name: 'GITHUB_TOKEN', reason: expect.stringMatching(/in more than one place/) });
    }
    expect(v.events.map((e) => e.kind)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
  });

  it('refuses a placeholder, once, beside an Authorization of the command\'s own (the value would be data for that account to keep)', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    const own = 'ghp_' + 'o'.repeat(36);
    for (const [headers, target] of [
      [[['Authorization', `Bearer ${own}`]], `/repos/own/public/contents/${c.placeholder}.txt`],
      [[['Authorization', `Basic ${Buffer.from(`own:${own}`).toString('base64')}`]], `/chat.postMessage?text=${c.placeholder}`],
      [[['authorization', `token ${own}`], ['Dropbox-API-Arg', `{"path":"/${c.placeholder}"}`]], '/2/files/upload'],
      [[['Authorization', `token ${c.placeholder}`], ['Authorization', `token ${own}`]], '/user'],
    ] as [[string, string][], string][]) {
      expect(v.rewrite(req('api.github.com', headers, target)), target).toEqual({ ok: false, name: 'GITHUB_TOKEN', reason: expect.stringMatching(/authentication of its own \(header authorization, without the placeholder/) });
    }
    expect(v.events.map((e) => e.kind)).toEqual(['refused', 'refused', 'refused', 'refused']);
    // Control: a request with an Authorization of its own and no placeholder is the command's business.
    expect(v.rewrite(req('api.github.com', [['Authorization', `Bearer ${own}`]], '/user'))).toMatchObject({ ok: true, injected: [] });
  });

  it('refuses a placeholder beside any authentication of the command\'s own: token headers, token parameters, a session cookie', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    const own = 'glpat-' + 'o'.repeat(20);
    const refused: [[string, string][], string, RegExp][] = [
      [[['PRIVATE-TOKEN', own]], `/api/v4/projects/own%2Fpublic/repository/files/${c.placeholder}`, /header private-token,/],
      [[['Job-Token', own]], `/api/v4/projects/1/issues?title=${c.placeholder}`, /header job-token,/],
      [[['X-Api-Key', own]], `/v1/files/${c.placeholder}`, /header x-api-key,/],
      [[['x-goog-api-key', own]], `/v1/notes?text=${c.placeholder}`, /header x-goog-api-key,/],
      [[], `/api/v4/projects/1/issues?private_token=${own}&title=${c.placeholder}`, /query parameter private_token,/],
      [[], `/chat.postMessage?Token=${own}&text=${c.placeholder}`, /query parameter token,/],
      [[['Cookie', `_session=${own}`]], `/repos/own/public/contents/${c.placeholder}.txt`, /header cookie,/],
      [[['X-Title', c.placeholder], ['Cookie', `_session=${own}`]], '/issues', /header cookie,/],
      // Its own token where the placeholder would authenticate too: the host picks one of the two, the command's perhaps.
      [[['Authorization', `Bearer ${c.placeholder}`], ['PRIVATE-TOKEN', own]], '/user', /header private-token,/],
      [[['PRIVATE-TOKEN', c.placeholder]], `/user?access_token=${own}`, /query parameter access_token,/],
    ];
    for (const [headers, target, why] of refused) {
      expect(v.rewrite(req('api.github.com', headers, target)), target).toEqual({ ok: false, name: 'GITHUB_TOKEN', reason: expect.stringMatching(why) });
    }
    expect(v.events.filter((e) => e.kind === 'refused')).toHaveLength(refused.length);
    // Controls: the placeholder where it authenticates, beside a CDN's cookie, is added; and so is one in a token parameter or header alone.
    expect(v.rewrite(req('api.github.com', [['Authorization', `Bearer ${c.placeholder}`], ['Cookie', '__cf_bm=abc']], '/user'))).toMatchObject({ ok: true, injected: ['GITHUB_TOKEN'] });
    expect(v.rewrite(req('api.github.com', [['Cookie', '__cf_bm=abc']], `/user?private_token=${c.placeholder}&per_page=2`))).toMatchObject({ ok: true, target: `/user?private_token=${TOKEN}&per_page=2` });
    expect(v.rewrite(req('api.github.com', [['PRIVATE-TOKEN', c.placeholder]], '/user'))).toMatchObject({ ok: true, headers: [['PRIVATE-TOKEN', TOKEN], ['Accept-Encoding', 'identity']] });
    expect(v.rewrite(req('api.github.com', [], `/bot${c.placeholder}/getMe?offset=2`))).toMatchObject({ ok: true, injected: ['GITHUB_TOKEN'] });
  });

  it('asks for the whole response where it adds a value: no Range, no If-Range (an echo served in parts would give the value a part at a time)', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    const r = v.rewrite(req('api.github.com', [['Authorization', `token ${c.placeholder}`], ['Range', 'bytes=0-19'], ['If-Range', '"e1"'], ['Accept', '*/*']]));
    expect(r.ok && r.headers).toEqual([['Authorization', `token ${TOKEN}`], ['Accept', '*/*'], ['Accept-Encoding', 'identity']]);
    const untouched: [string, string][] = [['Range', 'bytes=0-19']];
    expect(v.rewrite(req('api.github.com', untouched))).toMatchObject({ ok: true, headers: untouched });
  });

  it('replaces the placeholder inside Authorization: Basic base64(user:password)', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    const basic = (pw: string): string => `Basic ${Buffer.from(`x-access-token:${pw}`).toString('base64')}`;
    const r = v.rewrite(req('api.github.com', [['authorization', basic(c.placeholder)]]));
    expect(r.ok && r.headers).toEqual([['authorization', basic(TOKEN)], ['Accept-Encoding', 'identity']]);
  });

  it('refuses a placeholder going to another host, or after the ttl, and records the misuse', () => {
    let now = 1_000_000;
    const c = loaded({ ttlMs: 60_000 });
    const v = new CredentialVault([c], () => now);
    const other = v.rewrite(req('evil.example', [['Authorization', `Bearer ${c.placeholder}`]]));
    expect(other).toEqual({ ok: false, name: 'GITHUB_TOKEN', reason: expect.stringMatching(/sent to evil\.example:443; it is only added for api\.github\.com/) });
    const basic = v.rewrite(req('evil.example', [['Authorization', `Basic ${Buffer.from(`u:${c.placeholder}`).toString('base64')}`]]));
    expect(basic.ok).toBe(false);
    expect(v.rewrite(req('api.github.com', [['X', c.placeholder]])).ok).toBe(true);
    now += 60_000;
    expect(v.rewrite(req('api.github.com', [['X', c.placeholder]]))).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
    expect(v.events.map((e) => e.kind)).toEqual(['refused', 'refused', 'injected', 'refused']);
  });

  it('in clear text (plain http) the value goes only to a host and port a rule names exactly, never to one a portless pattern covers', () => {
    const c = loaded({ hosts: ['api.github.com', 'localhost:8080'] });
    const v = new CredentialVault([c]);
    const auth: [string, string][] = [['Authorization', `Bearer ${c.placeholder}`]];
    expect(v.rewrite(req('api.github.com', auth, '/', 80, false))).toMatchObject({ ok: false, reason: expect.stringMatching(/not sent to api\.github\.com:80 over plain http/) });
    expect(v.rewrite(req('localhost', auth, '/', 8080, false))).toMatchObject({ ok: true, headers: [['Authorization', `Bearer ${TOKEN}`], ['Accept-Encoding', 'identity']] });
    expect(v.rewrite(req('api.github.com', auth, '/', 443, true)).ok).toBe(true);
  });

  it('a rule that names port 443 exactly means https: a plain http request to that port gets no value', () => {
    const c = loaded({ hosts: ['127.0.0.1:443', 'api.github.com:443'] });
    const v = new CredentialVault([c]);
    const auth: [string, string][] = [['Authorization', `Bearer ${c.placeholder}`]];
    for (const host of ['127.0.0.1', 'api.github.com']) {
      expect(v.rewrite(req(host, auth, '/', 443, false))).toMatchObject({ ok: false, reason: expect.stringMatching(/not sent to .*:443 over plain http.*https/) });
      expect(v.rewrite(req(host, auth, '/', 443, true)).ok).toBe(true);
    }
  });

  it('a request without a placeholder is passed on unchanged and not recorded', () => {
    const v = new CredentialVault([loaded()]);
    expect(v.rewrite(req('example.org', [['A', 'b']]))).toEqual({ ok: true, target: '/user', headers: [['A', 'b']], injected: [] });
    expect(v.events).toEqual([]);
  });

  it('finds a placeholder in a body going elsewhere, also split between two pieces', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    const watch = v.bodyWatch({ method: 'POST', host: 'evil.example', port: 80, target: '/collect?x=1' });
    expect(watch(Buffer.from(`token=${c.placeholder.slice(0, 10)}`))).toBeUndefined();
    expect(watch(Buffer.from(`${c.placeholder.slice(10)}&more`))).toMatch(/sent to evil\.example:80/);
    expect(v.events).toMatchObject([{ kind: 'refused', path: '/collect' }]);
    expect(v.bodyWatch({ method: 'POST', host: 'api.github.com', port: 443, target: '/' })(Buffer.from(c.placeholder))).toBeUndefined();
  });

  it('a value in a path is recorded by the credential\'s name', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    v.rewrite(req('api.github.com', [], `/t/${c.placeholder}?q`));
    expect(v.events[0]?.path).toBe('/t/<GITHUB_TOKEN>');
  });
});

describe('scrubbing responses', () => {
  const mask = Buffer.from('ghp_PLACEHOLDERxxxxxxxxxxxxxxxxxxxxxxxxx').subarray(0, TOKEN.length);
  const run = (pieces: string[]): string => {
    const s = scrubber(replacementsFor(Buffer.from(TOKEN), mask));
    return Buffer.concat([...pieces.flatMap((p) => s.push(Buffer.from(p))), s.flush()]).toString();
  };

  it('in a response head (reason phrase, header names and values) the value is replaced in any case of its letters', () => {
    const c = loaded();
    const v = new CredentialVault([c]);
    for (const text of [`x-seen-${TOKEN.toLowerCase()}`, `INVALID TOKEN ${TOKEN.toUpperCase()}`, `token ${TOKEN}`]) {
      const out = v.scrubText(text);
      expect(out.toLowerCase(), text).not.toContain(TOKEN.toLowerCase());
      expect(out, text).toContain(c.placeholder);
      expect(out.length).toBe(text.length);
    }
  });

  it('two credentials, one value the start of the other: an echo of the longer is replaced whole, in whichever order they are listed', () => {
    const short = 'Tok3nPrefix';
    const long = `${short}SecretTail99`;
    for (const order of [[short, long], [long, short]]) {
      const v = new CredentialVault(order.map((value, i) => loaded({ name: `T${i}` }, value)));
      const s = v.responseScrubber();
      const body = Buffer.concat([...s.push(Buffer.from(`echo: ${long}.`)), s.flush()]).toString();
      expect(body, order.join(' then ')).not.toContain('SecretTail99');
      expect(v.scrubText(`x-echo: ${long.toLowerCase()}`).toLowerCase()).not.toContain('secrettail99');
    }
  });

  it('two credentials, one value the start of the other: the longer is replaced whole across every split point of the stream', () => {
    const short = 'Tok3nPrefix';
    const long = `${short}SecretTail99`;
    const v = new CredentialVault([loaded({ name: 'SHORT' }, short), loaded({ name: 'LONG' }, long)]);
    const text = `${'x'.repeat(1000)}echo: ${long}. again ${short}!`;
    for (let cut = 0; cut <= text.length; cut++) {
      const s = v.responseScrubber();
      const body = Buffer.concat([...s.push(Buffer.from(text.slice(0, cut))), ...s.push(Buffer.from(text.slice(cut))), s.flush()]).toString();
      expect(body, `cut at ${cut}`).not.toContain('Tail99');
      expect(body, `cut at ${cut}`).not.toContain(short);
      expect(body).toHaveLength(text.length);
    }
  });

  it('replaces the value with a mask of the same length, also across every split point', () => {
    const text = `{"token":"${TOKEN}","again":"${TOKEN}"}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const out = run([text.slice(0, cut), text.slice(cut)]);
      expect(out).not.toContain(TOKEN);
      expect(out).toHaveLength(text.length);
      expect(out).toContain(mask.toString());
    }
    expect(run(TOKEN.split(''))).toBe(mask.toString());
  });

  it('replaces every value in a long stream cut into pieces of every size, small and large, and keeps its length', () => {
    const filler = (n: number): string => 'x'.repeat(n);
    const text = [filler(3), TOKEN, filler(200), TOKEN, TOKEN, filler(TOKEN.length - 1), TOKEN, filler(5000), TOKEN, '!'].join('');
    for (const size of [1, 7, TOKEN.length - 1, TOKEN.length, TOKEN.length + 1, 2 * TOKEN.length - 2, 2 * TOKEN.length, 97, 1000, 4096, 16384]) {
      const pieces: string[] = [];
      for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
      const out = run(pieces);
      expect(out, `pieces of ${size}`).toBe(text.replaceAll(TOKEN, mask.toString()));
    }
  });

  it('passes on views of the chunks it was given, copying only the seams', () => {
    const s = scrubber(replacementsFor(Buffer.from(TOKEN), mask));
    const first = Buffer.from(`${'a'.repeat(1000)}${TOKEN.slice(0, 10)}`);
    const second = Buffer.from(`${TOKEN.slice(10)}${'b'.repeat(1000)}`);
    const one = s.push(first);
    const two = s.push(second);
    expect(one).toHaveLength(1);
    expect(one[0]?.buffer).toBe(first.buffer);
    expect(two).toHaveLength(2);
    expect(two[1]?.buffer).toBe(second.buffer);
    const out = Buffer.concat([...one, ...two, s.flush()]).toString();
    expect(out).toBe(`${'a'.repeat(1000)}${mask.toString()}${'b'.repeat(1000)}`);
  });

  it('replaces a value with other characters than letters and digits where a server escapes it: percent-encoded, in JSON', () => {
    const value = 'Ab3/Kq9+Zt7=Wx2/Lm5"Pq8<Rs1&Tu4\\Vw6>';
    const placeholder = makePlaceholder(value);
    const s = scrubber(replacementsFor(Buffer.from(value), Buffer.from(placeholder.slice(0, value.length))));
    const echoes = [
      encodeURIComponent(value),
      encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
      value.replace(/[\\"/]/g, (c) => `\\${c}`),
      JSON.stringify(value).slice(1, -1),
      JSON.stringify(value).slice(1, -1).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
    ];
    const text = echoes.map((e) => `[${e}]`).join('\n');
    const out = Buffer.concat([...text.split('').flatMap((c) => s.push(Buffer.from(c, 'latin1'))), s.flush()]).toString('latin1');
    expect(out).toHaveLength(text.length);
    const unescaped = [decodeURIComponent, decodeURIComponent, (e: string) => e.replace(/\\(.)/g, '$1'), (e: string) => JSON.parse(`"${e}"`) as string, (e: string) => JSON.parse(`"${e}"`) as string];
    out.split('\n').forEach((line, i) => {
      const shown = (unescaped[i] ?? String)(line.slice(1, -1));
      expect(shown, `echo ${i}: ${line}`).not.toContain(value.slice(0, 12));
    });
  });

  it('replaces the value where an echoed Basic authorization carries it in base64, at every offset', () => {
    for (const user of ['a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${user}:${TOKEN}`).toString('base64');
      const decoded = Buffer.from(run([`Authorization: Basic ${encoded}`]).slice('Authorization: Basic '.length), 'base64').toString();
      expect(decoded).not.toContain(TOKEN.slice(4, -2));
    }
  });
});
