import { describe, expect, it } from 'vitest';
import { scrubGitConfig, withoutUserinfo, type Scrubbed } from '../../src/host/git-credentials.js';

const TOKEN = 'ghs_0123456789abcdef';
const B64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

/** The text the sandbox sees, or 'clean' / 'unparseable'. */
function shown(text: string): string {
  const r: Scrubbed = scrubGitConfig(text);
  return r.kind === 'scrubbed' ? r.text : r.kind;
}

describe('scrubGitConfig', () => {
  it('leaves a file with no credential as it is (no copy)', () => {
    const text = '[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectFormat = sha256\n[remote "origin"]\n\turl = git@github.com:o/r.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n';
    expect(shown(text)).toBe('clean');
  });

  it('removes actions/checkout\'s extraheader, in any case of the key, and keeps every other line byte for byte', () => {
    const text = `[core]\n\tbare = false\n[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${B64}\n[HTTP]\n\tExtraHeader = "X-Token: ${TOKEN}" ; a comment\n\tsslVerify = true\n`;
    expect(shown(text)).toBe('[core]\n\tbare = false\n[http "https://github.com/"]\n[HTTP]\n\tsslVerify = true\n');
  });

  it('removes the userinfo of a remote\'s URL and of a pushurl, keeping the rest of the remote', () => {
    const text = `[remote "origin"]\n\turl = https://gitlab-ci-token:${TOKEN}@gitlab.com/g/p.git\n\tpushurl = https://${TOKEN}@github.com/o/r.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`;
    expect(shown(text)).toBe('[remote "origin"]\n\turl = "https://gitlab.com/g/p.git"\n\tpushurl = "https://github.com/o/r.git"\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n');
  });

  it('keeps the user of an ssh URL (not a secret) and drops its password', () => {
    expect(withoutUserinfo('ssh://git@example.com/r.git', true)).toBe('ssh://git@example.com/r.git');
    expect(withoutUserinfo(`ssh://git:${TOKEN}@example.com/r.git`, true)).toBe('ssh://git@example.com/r.git');
    expect(withoutUserinfo('https://user@example.com/r.git', false)).toBe('https://user@example.com/r.git');
  });

  it('removes the userinfo in a section\'s name (url.<base>.insteadOf, credential.<url>), rewriting only that header', () => {
    const text = `[url "https://dev:${TOKEN}@github.com/"]\n\tinsteadOf = https://github.com/\n[credential "https://user:${TOKEN}@example.com"]\n\tuseHttpPath = true\n`;
    expect(shown(text)).toBe('[url "https://github.com/"]\n\tinsteadOf = https://github.com/\n[credential "https://example.com"]\n\tuseHttpPath = true\n');
  });

  it('removes a submodule\'s URL userinfo and an insteadOf value with a token', () => {
    const text = `[submodule "lib"]\n\turl = https://x:${TOKEN}@github.com/o/lib.git\n\tactive = true\n[url "https://github.com/"]\n\tinsteadOf = https://oauth2:${TOKEN}@github.com/\n`;
    const out = shown(text);
    expect(out).not.toContain(TOKEN);
    expect(out).toContain('\tactive = true\n');
    expect(out).toContain('url = "https://github.com/o/lib.git"');
  });

  it('removes a credential helper that is a shell snippet with a password, and keeps a plain one', () => {
    const text = `[credential]\n\thelper = "!f() { echo username=x; echo password=${TOKEN}; }; f"\n\thelper = cache\n`;
    expect(shown(text)).toBe('[credential]\n\thelper = cache\n');
  });

  it('keeps http.cookieFile (a path, no secret) and include paths', () => {
    const text = '[http]\n\tcookieFile = ~/.gitcookies\n[include]\n\tpath = ../shared.inc\n[includeIf "gitdir:~/work/"]\n\tpath = work.inc\n';
    expect(shown(text)).toBe('clean');
  });

  it('removes a value continued over several lines as one entry', () => {
    const text = `[http]\n\textraHeader = AUTHORIZATION: \\\nbasic ${B64}\n\tpostBuffer = 1\n`;
    expect(shown(text)).toBe('[http]\n\tpostBuffer = 1\n');
  });

  it('keeps a continued value with no secret byte for byte', () => {
    const text = '[alias]\n\tlg = log \\\n--oneline\n[http]\n\textraheader = X\n';
    expect(shown(text)).toBe('[alias]\n\tlg = log \\\n--oneline\n[http]\n');
  });

  it('reads quoting and escapes as git does, and writes a rewritten value quoted', () => {
    const text = `[remote "o\\"q"]\n\turl = "https://u:${TOKEN}@h/a b\\"c"\n`;
    expect(shown(text)).toBe('[remote "o\\"q"]\n\turl = "https://h/a b\\"c"\n');
  });

  it('finds a key on the header\'s line, and in the old [section.sub] form', () => {
    expect(shown(`[http "https://github.com/"] extraheader = ${B64}\n[core]\n`)).toBe('[http "https://github.com/"]\n[core]\n');
    expect(shown(`[http.https]\n\textraheader = ${B64}\n`)).toBe('[http.https]\n');
  });

  it('keeps comments and blank lines, and CRLF line ends', () => {
    const text = `# a comment\r\n; another\r\n\r\n[http]\r\n\textraheader = ${B64}\r\n\tproxy = http://proxy:${TOKEN}@p:3128\r\n`;
    expect(shown(text)).toBe('# a comment\r\n; another\r\n\r\n[http]\r\n\tproxy = "http://p:3128"\r\n');
  });

  it('removes sendemail.smtpPass', () => {
    expect(shown(`[sendemail]\n\tsmtpPass = ${TOKEN}\n\tsmtpUser = me\n`)).toBe('[sendemail]\n\tsmtpUser = me\n');
  });

  it('removes every key named as a password or a token: git\'s imap.pass and gitcvs.dbPass, git-town\'s and the old github.token', () => {
    const text = `[imap]\n\thost = imaps://imap.example.com\n\tpass = ${TOKEN}\n[gitcvs]\n\tdbPass = ${TOKEN}\n[git-town]\n\tgithub-token = ${TOKEN}\n\tbitbucket-app-password = ${TOKEN}\n[github]\n\tuser = me\n\ttoken = ${TOKEN}\n[hub]\n\toauthtoken = ${TOKEN}\n`;
    expect(shown(text)).toBe('[imap]\n\thost = imaps://imap.example.com\n[gitcvs]\n[git-town]\n[github]\n\tuser = me\n[hub]\n');
  });

  it('keeps core.askPass (a program) and http.sslCertPasswordProtected (a setting)', () => {
    expect(shown('[core]\n\taskPass = /usr/bin/ksshaskpass\n[http]\n\tsslCertPasswordProtected = true\n')).toBe('clean');
  });

  it('removes a token that is the user name of a git-lfs URL or of a proxy', () => {
    const text = `[lfs]\n\turl = https://${TOKEN}@lfs.example.com/o/r\n[remote "origin"]\n\tlfsurl = https://${TOKEN}@lfs.example.com/o/r\n[http]\n\tproxy = http://${TOKEN}@proxy:3128\n`;
    const out = shown(text);
    expect(out).not.toContain(TOKEN);
    expect(out).toContain('url = "https://lfs.example.com/o/r"');
    expect(out).toContain('proxy = "http://proxy:3128"');
  });

  it('removes a credential helper snippet that prints a bearer credential (git 2.46 authtype and credential)', () => {
    expect(shown(`[credential]\n\thelper = "!f() { echo authtype=Bearer; echo credential=${TOKEN}; }; f"\n`)).toBe('[credential]\n');
  });

  it('refuses what it cannot parse with certainty: a broken header, an unclosed quote, a stray line, a continuation at the end', () => {
    expect(shown('[http "x\n\textraheader = y\n')).toBe('unparseable');
    expect(shown('[core]\n\tname = "open\n')).toBe('unparseable');
    expect(shown('[core]\n\t= value\n')).toBe('unparseable');
    expect(shown('[core]\n\tkey value\n')).toBe('unparseable');
    expect(shown('[core]\n\tkey = a\\')).toBe('unparseable');
  });

  it('removes a userinfo with a quote, a backslash or a space in it, as git reads it (quoted and escaped)', () => {
    expect(shown('[remote "o"]\n\turl = "https://u:a\\"b\\\\c@h/r"\n')).toBe('[remote "o"]\n\turl = "https://h/r"\n');
    expect(shown('[remote "o"]\n\turl = "https://u:a b@h/r"\n')).toBe('[remote "o"]\n\turl = "https://h/r"\n');
    expect(shown('[url "ssh://git:p\\"w@h/"]\n\tinsteadOf = x\n')).toBe('[url "ssh://git@h/"]\n\tinsteadOf = x\n');
  });

  it('removes credential.username and credential.<url>.username that look like a token, in any case; a person\'s name stays', () => {
    for (const token of ['ghp_0123456789abcdefghijABCDEFGHIJ012345', 'glpat-0123456789abcdefghij', '0123456789abcdef0123456789abcdef01234567', 'a'.repeat(31) + '7']) {
      expect(shown(`[credential]\n\tusername = ${token}\n\thelper = cache\n[Credential "https://h"]\n\tUserName = ${token}\n`), token).toBe('[credential]\n\thelper = cache\n[Credential "https://h"]\n');
    }
    for (const name of ['octocat', 'jane.doe@example.com', 'john-smith-1985', 'x-access-token', 'a'.repeat(40)]) {
      expect(shown(`[credential "https://h"]\n\tusername = ${name}\n`), name).toBe('clean');
    }
  });

  it('removes a credential helper whose arguments name a secret, or a snippet that prints a user name; keeps a plain helper named libsecret or store with a file', () => {
    const text = `[credential "https://h"]\n\thelper = "/opt/bin/cred --token=${TOKEN}"\n\thelper = "vault --password ${TOKEN}"\n\thelper = " !f() { echo password=${TOKEN}; }; f"\n\thelper = "!f() { echo username=${TOKEN}; }; f"\n`;
    expect(shown(text)).toBe('[credential "https://h"]\n');
    expect(shown('[credential]\n\thelper = libsecret\n\thelper = store --file ~/.git-credentials\n\thelper = "!aws codecommit credential-helper $@"\n\thelper = cache --timeout=3600\n')).toBe('clean');
  });

  it('keeps a key without a value (true)', () => {
    expect(shown('[core]\n\tbare\n')).toBe('clean');
  });
});
