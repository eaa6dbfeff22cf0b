import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostFileWay } from '../../src/profile/links.js';
import { credentialProgram, findProgram } from '../../src/run/credential-program.js';

const dir = mkdtempSync(join(tmpdir(), 'isolate-credprog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** dir/project is what the sandbox may write; dir/tools is not. */
const project = join(dir, 'project');
const inProject = (path: string): boolean => path === project || path.startsWith(`${project}/`);
const writable = (path: string): ReturnType<typeof hostFileWay> => hostFileWay(path, inProject);
function tool(at: string): string {
  mkdirSync(at, { recursive: true });
  const file = join(at, 'rt-tool');
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

describe('the program of a credential command (credential-program.ts)', () => {
  const safe = tool(join(dir, 'tools'));
  const planted = tool(join(project, 'bin'));
  mkdirSync(join(dir, 'links'));
  symlinkSync(planted, join(dir, 'links', 'rt-tool'));

  it('is found as the system finds it: the first executable on PATH, relative entries from the directory it runs in, /usr/bin:/bin without PATH', () => {
    expect(findProgram('rt-tool', `${join(dir, 'none')}:${join(dir, 'tools')}`, '/')).toBe(safe);
    expect(findProgram('rt-tool', 'tools', dir)).toBe(safe);
    expect(findProgram('sh', undefined, '/')).toMatch(/^\/(usr\/)?bin\/sh$/);
    expect(findProgram('rt-tool', '/nonexistent', '/')).toBeUndefined();
  });

  it('runs by the path found, and is refused inside a path the sandbox can write, or when the file it names is there', () => {
    expect(credentialProgram('rt-tool', { PATH: join(dir, 'tools') }, '/', writable)).toEqual({ ok: true, path: safe });
    expect(credentialProgram('rt-tool', { PATH: `${join(project, 'bin')}:${join(dir, 'tools')}` }, '/', writable)).toMatchObject({ ok: false, why: expect.stringContaining(`its program ${planted} is inside a path the sandbox can write`) });
    expect(credentialProgram('rt-tool', { PATH: join(dir, 'links') }, '/', writable)).toMatchObject({ ok: false, why: expect.stringContaining(`(${planted})`) });
    expect(credentialProgram(planted, {}, '/', writable).ok).toBe(false);
  });

  it('is refused when a link on the way to it is inside a path the sandbox can write: the command could point that link at its own program', () => {
    // dir/chain/rt-tool -> dir/project/current/rt-tool, where dir/project/current -> dir/tools: neither name nor file is writable, the link between is.
    symlinkSync(join(dir, 'tools'), join(project, 'current'));
    mkdirSync(join(dir, 'chain'));
    symlinkSync(join(project, 'current', 'rt-tool'), join(dir, 'chain', 'rt-tool'));
    expect(credentialProgram('rt-tool', { PATH: join(dir, 'chain') }, '/', writable)).toMatchObject({ ok: false, why: expect.stringContaining(`${join(project, 'current')}`) });
  });

  it('is refused when it is not found, never left to a second PATH lookup when it starts (which could find one a sandbox made since)', () => {
    expect(credentialProgram('rt-missing', { PATH: join(dir, 'tools') }, '/', writable)).toMatchObject({ ok: false, why: expect.stringContaining('rt-missing is not found') });
  });
});
