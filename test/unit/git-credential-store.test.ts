/**
 * The credential files a `git credential-store` helper in git's
 * configuration names (host/git-credential-store.ts): each form of the
 * helper line, checked against real git (`git credential fill` reads the
 * token from that very file), and the files hidden in the setup list.
 * Temp dirs only.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialStoreFiles, storeFilesOf } from '../../src/host/git-credential-store.js';

const hasGit = spawnSync('git', ['--version']).status === 0;
if (!hasGit) console.warn('credential-store files judged by real git skipped: no git on PATH to be the oracle (install git)');

describe('credentialStoreFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-store-')));
    mkdirSync(join(dir, 'home'));
    mkdirSync(join(dir, 'project'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const where = () => ({ home: join(dir, 'home'), bases: [join(dir, 'project')], xdg: undefined });

  it.skipIf(!hasGit)('finds the file of each form git reads credentials from (real git as the oracle)', () => {
    const file = join(dir, 'project', 'creds');
    writeFileSync(file, 'https://u:ghx_s3cret@example.com\n');
    const forms = [
      `store --file ${file}`,
      `store --file=${file}`,
      `store --file '${file}'`,
      `!git credential-store --file "${file}"`,
      'store --file ~/../project/creds',
      'store --file creds',
    ];
    for (const helper of forms) {
      const r = spawnSync('git', ['-c', 'credential.helper=', '-c', `credential.helper=${helper}`, 'credential', 'fill'], {
        input: 'protocol=https\nhost=example.com\n\n', encoding: 'utf8', cwd: join(dir, 'project'),
        env: { PATH: process.env['PATH'], HOME: join(dir, 'home'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
      });
      expect(r.stdout, `git reads the token through ${helper}`).toContain('password=ghx_s3cret');
      expect(storeFilesOf(helper, where()), helper).toEqual([file]);
    }
  });

  it('a store helper without --file: git\'s own files; other helpers: none', () => {
    expect(storeFilesOf('store', where())).toEqual([join(dir, 'home', '.git-credentials'), join(dir, 'home', '.config', 'git', 'credentials')]);
    expect(storeFilesOf('cache --timeout=60', where())).toEqual([]);
    expect(storeFilesOf('!gh auth git-credential', where())).toEqual([]);
  });

  it('lists the regular files that exist, at their real paths, from the credential helpers of the files read', () => {
    writeFileSync(join(dir, 'project', 'creds'), 'https://u:p@h\n');
    const text = `[credential "https://h"]\n\thelper = store --file ${join(dir, 'project', 'creds')}\n[credential]\n\thelper = store --file ${join(dir, 'missing')}\n`;
    expect(credentialStoreFiles([{ path: join(dir, 'cfg'), bytes: Buffer.from(text) }], { HOME: join(dir, 'home') }, join(dir, 'project'))).toEqual([join(dir, 'project', 'creds')]);
  });

  it.skipIf(!hasGit)('a relative --file is taken from the top of the repository, where git runs the helper (real git as the oracle)', () => {
    const repo = join(dir, 'project');
    expect(spawnSync('git', ['init', '-q', repo]).status).toBe(0);
    mkdirSync(join(repo, 'sub'));
    writeFileSync(join(repo, 'creds'), 'https://u:ghx_top@example.com\n');
    writeFileSync(join(repo, '.git', 'config'), '[credential]\n\thelper = store --file creds\n');
    const r = spawnSync('git', ['credential', 'fill'], {
      input: 'protocol=https\nhost=example.com\n\n', encoding: 'utf8', cwd: join(repo, 'sub'),
      env: { PATH: process.env['PATH'], HOME: join(dir, 'home'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
    });
    expect(r.stdout, 'git reads the file at the top').toContain('password=ghx_top');
    const config = { path: join(repo, '.git', 'config'), bytes: Buffer.from('[credential]\n\thelper = store --file creds\n') };
    expect(credentialStoreFiles([config], { HOME: join(dir, 'home') }, join(repo, 'sub'))).toEqual([join(repo, 'creds')]);
  });
});
