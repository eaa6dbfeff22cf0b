/**
 * The git configuration scrubber (host/git-credentials.ts) judged by real
 * git: what `git config --file F --list` reads from the copy the sandbox
 * sees, and what git would send from it (the Authorization header a
 * loopback HTTP server records when git fetches from it). Each case is
 * first shown to leak from the original file (the positive control). Temp
 * dirs only; the server and every git started are stopped by the test.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrubGitConfig } from '../../src/host/git-credentials.js';

const TOKEN = 'ghx"q\\z_0123456789';
/** A user name that is a token: one of a token's shapes (token-shapes.ts); a person's name stays in the copy. */
const USER_TOKEN = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
const hasGit = spawnSync('git', ['--version']).status === 0;
if (!hasGit) console.warn('scrubGitConfig judged by real git skipped: no git on PATH to be the oracle (install git)');

describe.skipIf(!hasGit)('scrubGitConfig, judged by real git', () => {
  let dir: string;
  let server: Server;
  let url: string;
  const seen: string[] = [];

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-oracle-')));
    // An askpass that answers every prompt with a password that is not the token: git then sends what the file gave it.
    writeFileSync(join(dir, 'askpass'), '#!/bin/sh\necho pw\n');
    chmodSync(join(dir, 'askpass'), 0o755);
    server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r.git`;
  });
  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The text the sandbox sees of `text` (as it is when there is nothing to remove). */
  const copy = (text: string): string => {
    const r = scrubGitConfig(text);
    expect(r.kind).not.toBe('unparseable');
    return r.kind === 'scrubbed' ? r.text : text;
  };
  /** What `git config --file F --list` reads from `text`. */
  const listed = (text: string): string => {
    const file = join(dir, 'listed');
    writeFileSync(file, text);
    const r = spawnSync('git', ['config', '--file', file, '--list'], { encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: dir, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  /** The Authorization headers git sends fetching remote `o` of a repository whose configuration is `text`. */
  const sent = async (text: string): Promise<string[]> => {
    const repo = join(dir, 'repo');
    rmSync(repo, { recursive: true, force: true });
    expect(spawnSync('git', ['init', '-q', repo]).status).toBe(0);
    writeFileSync(join(repo, '.git', 'config'), `[core]\n\trepositoryformatversion = 0\n${text}`);
    seen.length = 0;
    const env = { PATH: process.env['PATH'], HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: join(dir, 'askpass') };
    await new Promise<void>((ok) => execFile('git', ['-C', repo, 'ls-remote', 'o'], { env, timeout: 20_000 }, () => ok()));
    return seen.map((h) => Buffer.from(h.replace(/^Basic /, ''), 'base64').toString('utf8'));
  };
  /** A value quoted as a configuration file holds it. */
  const q = (v: string): string => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

  const cases: { name: string; text: () => string; token?: string }[] = [
    { name: 'a password with a quote and a backslash in a remote\'s URL', text: () => `[remote "o"]\n\turl = ${q(url.replace('//', `//u:${TOKEN}@`))}\n` },
    { name: 'a token with a quote as the user name of a remote\'s URL', text: () => `[remote "o"]\n\turl = ${q(url.replace('//', `//${TOKEN}@`))}\n` },
    { name: 'a password with a quote in an insteadOf section\'s name', text: () => `[url ${q(url.replace('//', `//u:${TOKEN}@`))}]\n\tinsteadOf = ${url}\n[remote "o"]\n\turl = ${url}\n` },
    { name: 'a token as credential.<url>.username', text: () => `[credential ${q(url)}]\n\tusername = ${USER_TOKEN}\n[remote "o"]\n\turl = ${url}\n`, token: USER_TOKEN },
    { name: 'a token as credential.username', text: () => `[credential]\n\tusername = ${USER_TOKEN}\n[remote "o"]\n\turl = ${url}\n`, token: USER_TOKEN },
    { name: 'a helper snippet that prints the token as the user name', text: () => `[credential]\n\thelper = ${q(`!f() { echo 'username=${TOKEN.replace(/[\\"]/g, '')}'; }; f`)}\n[remote "o"]\n\turl = ${url}\n` },
  ];

  it.each(cases)('$name: git reads and sends it from the original, not from the copy', async (c) => {
    const original = c.text();
    const token = c.token ?? (original.includes('helper') ? TOKEN.replace(/[\\"]/g, '') : TOKEN);
    const has = (s: string): boolean => s.includes(token);
    expect(has((await sent(original)).join('\n')), 'git sends the token from the original (the positive control)').toBe(true);
    const shown = copy(original);
    expect(has(listed(shown)), 'git config --list of the copy').toBe(false);
    expect(has(shown), 'the copy\'s text').toBe(false);
    expect(has((await sent(shown)).join('\n')), 'what git sends from the copy').toBe(false);
  });
});
