/**
 * A run reads each git configuration file once (host/facts.ts): the search
 * for what the configuration makes git run or read (git-repos.ts) and the
 * copy the sandbox sees without its secrets (git-scrub.ts) share the bytes.
 * Every open of a file under the test's directory is counted. Temp dirs only.
 */
import { mkdirSync, mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gatherHostFacts } from '../../src/host/facts.js';
import { testPolicy, writablePolicy } from '../helpers/scan-policy.js';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, openSync: vi.fn(fs.openSync) };
});

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-read-once-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), text);
  return join(dir, rel);
}

/** How many times each file under the test's directory was opened. */
function opens(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [path] of vi.mocked(openSync).mock.calls) {
    const p = String(path);
    if (p.startsWith(`${dir}/`)) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

describe('a run and git\'s configuration', () => {
  it('reads each configuration file, worktree pointer and common-directory pointer once, and still shows them without their secrets', () => {
    const token = '[http]\n\textraheader = Authorization: Bearer secret\n';
    const configs = [
      write('home/.gitconfig', `[include]\n\tpath = user.cfg\n${token}`),
      write('home/user.cfg', token),
      write('project/app/.git/config', `[include]\n\tpath = ../../shared.cfg\n${token}`),
      write('project/shared.cfg', token),
      write('project/main/.git/config', token),
      write('project/main/.git/worktrees/wt/config.worktree', token),
    ];
    const pointers = [
      write('project/main/.git/worktrees/wt/commondir', '../..\n'),
      write('project/wt/.git', `gitdir: ${join(dir, 'project/main/.git/worktrees/wt')}\n`),
    ];
    const files = [...configs, ...pointers];
    const policy = writablePolicy(join(dir, 'project'), ['.git/hooks', '.git/config']);
    policy.filesystem.mounts.push({ kind: 'read', path: join(dir, 'home'), requested: join(dir, 'home'), type: 'dir' });
    const env = { HOME: join(dir, 'home'), GIT_CONFIG_SYSTEM: join(dir, 'no-system-config'), XDG_STATE_HOME: join(dir, 'state'), PATH: process.env['PATH'] };
    vi.mocked(openSync).mockClear();
    const facts = gatherHostFacts(policy, ['true'], { env, sealed: false });
    const counts = opens();
    expect(files.map((f) => [f, counts.get(f) ?? 0])).toEqual(files.map((f) => [f, 1]));
    const shown = (facts.gitConfigs ?? []).map((f) => f.path).sort();
    expect(shown).toEqual([...configs].sort());
    expect(facts.gitConfigs?.every((f) => !f.text.includes('secret'))).toBe(true);
  });

  it('a read-only project\'s repository (a CI checkout under strict): its files and the user\'s, each read once, shown without their secrets', () => {
    const token = '[http]\n\textraheader = Authorization: Bearer secret\n';
    const configs = [
      write('home/.gitconfig', `[include]\n\tpath = ../checkout/shared.cfg\n${token}`),
      write('checkout/.git/config', `[include]\n\tpath = ../shared.cfg\n${token}`),
      write('checkout/shared.cfg', token),
    ];
    const read = (path: string) => ({ kind: 'read' as const, path, requested: path, type: 'dir' as const });
    const policy = testPolicy([read(join(dir, 'checkout')), read(join(dir, 'home'))], join(dir, 'checkout'));
    const env = { HOME: join(dir, 'home'), GIT_CONFIG_SYSTEM: join(dir, 'no-system-config'), XDG_STATE_HOME: join(dir, 'state'), PATH: process.env['PATH'] };
    vi.mocked(openSync).mockClear();
    const facts = gatherHostFacts(policy, ['true'], { env, sealed: false });
    const counts = opens();
    expect(configs.map((f) => [f, counts.get(f) ?? 0])).toEqual(configs.map((f) => [f, 1]));
    expect((facts.gitConfigs ?? []).map((f) => f.path).sort()).toEqual([...configs].sort());
    expect(facts.gitConfigs?.every((f) => !f.text.includes('secret'))).toBe(true);
  });
});
