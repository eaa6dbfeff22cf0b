/**
 * Red team: a credential written into what its own host keeps. The proxy
 * puts a credential's value where its placeholder stands in a request to
 * the credential's hosts, in the target and in the headers. An API that
 * keeps what a request names (GitHub's contents API names a file by its
 * path, Slack and Telegram take a message's text from the query) would
 * then keep the real token where the command, or anyone who can read the
 * store (a public repository), reads it back: `Authorization: Bearer <ph>`
 * to authenticate, and `<ph>` again in the path or the query as data. A
 * request may carry a credential's placeholder in one place only; one that
 * carries it in more is refused, and the host gets nothing. Nor need the
 * command use the credential to be let in: an account of its own on the
 * same host (its own token in the Authorization header) authenticates, and
 * the placeholder, once in the path, the query or another header, is the
 * data that account keeps (a file named by it in the command's own public
 * repository). A request with authentication of its own that does not
 * hold the placeholder (an Authorization header, GitLab's PRIVATE-TOKEN or
 * private_token parameter, an API key header, a session cookie) gets no
 * value added elsewhere: refused.
 *
 * Judged at the server: what it was sent, beside the Authorization header.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenAll, stopAll } from '../helpers/credential-site.js';
import { homeWithProject, isolateAsync, runners, type Project, type Runner } from '../helpers/isolate.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
/** A token of an account the command owns on the same host (it needs no proxy to send it). */
const OWN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'y')}`;

/** What the server was sent, the Authorization header apart: the store a request can write to. */
const kept: string[] = [];
let api: Server;
let API = 0;

beforeAll(async () => {
  api = createServer((req, res) => {
    const headers = Object.entries(req.headers).filter(([n]) => n !== 'authorization').map(([n, v]) => `${n}: ${String(v)}`);
    kept.push([req.url ?? '', ...headers].join('\n'));
    res.end(req.headers.authorization === `Bearer ${TOKEN}` || (req.url ?? '').startsWith(`/bot${TOKEN}/`) ? 'authenticated' : 'unauthenticated');
  });
  [API = 0] = await listenAll(api);
});
afterAll(async () => {
  await stopAll(api);
});

describe.each(runners())('red team: a credential sent as data to its own host ($label)', (runner: Runner) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  const url = (path: string): string => `http://127.0.0.1:${API}${path}`;
  const run = (script: string) =>
    isolateAsync(runner, ['run', '--json', '--allow-domain', `127.0.0.1:${API}`, '--credential', `GITHUB_TOKEN@127.0.0.1:${API}`, '--', 'sh', '-c', script], {
      cwd: p.project,
      env: { ...p.env, XDG_STATE_HOME: `${p.home}/state`, GITHUB_TOKEN: TOKEN },
    });

  it.each([
    ['the path', () => `curl -sS -X PUT -H "Authorization: Bearer $GITHUB_TOKEN" ${url('/repos/me/public/contents/')}"$GITHUB_TOKEN".txt`],
    ['the query', () => `curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" "${url('/chat.postMessage?channel=c&text=')}$GITHUB_TOKEN"`],
    ['another header', () => `curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" -H "X-Title: $GITHUB_TOKEN" ${url('/issues')}`],
    ['the path twice', () => `curl -sS "${url('/bot')}$GITHUB_TOKEN/sendMessage?chat_id=1&text=$GITHUB_TOKEN"`],
    // The command's own account on the host authenticates; the placeholder, once, is only data for that account to keep.
    ['the path, beside a bearer token of the command\'s own', () => `curl -sS -X PUT -H "Authorization: Bearer ${OWN}" ${url('/repos/own/public/contents/')}"$GITHUB_TOKEN".txt`],
    ['the query, beside a Basic authorization of the command\'s own', () => `curl -sS -u own:${OWN} "${url('/chat.postMessage?channel=c&text=')}$GITHUB_TOKEN"`],
    ['a header, beside an authorization of the command\'s own', () => `curl -sS -H "Authorization: token ${OWN}" -H "Dropbox-API-Arg: {\\"path\\": \\"/$GITHUB_TOKEN\\"}" ${url('/2/files/upload')}`],
    // Hosts take an account's token in other places too: GitLab's PRIVATE-TOKEN header and private_token parameter, an API key header, a session cookie.
    ['the path, beside a PRIVATE-TOKEN of the command\'s own', () => `curl -sS -X POST -H "PRIVATE-TOKEN: ${OWN}" ${url('/api/v4/projects/own%2Fpublic/repository/files/')}"$GITHUB_TOKEN"`],
    ['the query, beside a private_token parameter of the command\'s own', () => `curl -sS -X POST "${url(`/api/v4/projects/1/issues?private_token=${OWN}&title=`)}$GITHUB_TOKEN"`],
    ['the path, beside an X-Api-Key of the command\'s own', () => `curl -sS -X PUT -H "X-Api-Key: ${OWN}" ${url('/v1/files/')}"$GITHUB_TOKEN"`],
    ['the path, beside a session cookie of the command\'s own', () => `curl -sS -X PUT -b "_session=${OWN}" ${url('/repos/own/public/contents/')}"$GITHUB_TOKEN".txt`],
  ])('beside the one that authenticates, in %s: refused, the server keeps no token', async (_where, script) => {
    const before = kept.length;
    const r = await run(`${script()}; echo`);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(kept.slice(before).join('\n')).not.toContain(TOKEN);
    const report = JSON.parse(r.stdout) as { stdout: string; network: { credentials?: { misuse: number } } };
    expect(report.stdout).not.toContain('authenticated');
    expect(report.network.credentials?.misuse).toBe(1);
  });

  it('control: the placeholder in one place (a header, or the path) authenticates, also beside a CDN\'s cookie', async () => {
    const r = await run(`curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" ${url('/user')}; echo; curl -sS ${url('/bot')}"$GITHUB_TOKEN"/getMe; echo; curl -sS -b __cf_bm=abc -H "Authorization: Bearer $GITHUB_TOKEN" ${url('/user')}`);
    const report = JSON.parse(r.stdout) as { stdout: string };
    expect(report.stdout).toBe('authenticated\nauthenticated\nauthenticated');
  });
});
