/**
 * The list of isolate's other state directories in the home's: what is
 * listed, when the list is trusted, and the scan cache emptied on first use.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registeredStateDirs, registerStateDir } from '../../src/profile/state-registry.js';

describe('state directory list', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'isolate-it-registry-'));
    mkdirSync(join(home, '.local/state'), { recursive: true });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('lists a state directory other than the default once, and empties its scan cache the first time', () => {
    const other = join(home, 'elsewhere');
    mkdirSync(join(other, 'isolate/scan-cache'), { recursive: true });
    writeFileSync(join(other, 'isolate/scan-cache/planted.bin'), 'x');
    const env = { HOME: home, XDG_STATE_HOME: other };
    registerStateDir(env);
    expect(existsSync(join(other, 'isolate/scan-cache/planted.bin'))).toBe(false);
    mkdirSync(join(other, 'isolate/scan-cache'), { recursive: true });
    writeFileSync(join(other, 'isolate/scan-cache/kept.bin'), 'x');
    registerStateDir(env);
    expect(existsSync(join(other, 'isolate/scan-cache/kept.bin'))).toBe(true); // listed already: its cache stands
    expect(registeredStateDirs({ HOME: home })).toEqual([join(other, 'isolate')]);
  });

  it('a runtime directory elsewhere than /run/user/<uid> is listed too', () => {
    registerStateDir({ HOME: home, XDG_RUNTIME_DIR: join(home, 'rt') });
    expect(registeredStateDirs({ HOME: home })).toEqual([join(home, 'rt/isolate')]);
    registerStateDir({ HOME: home, XDG_RUNTIME_DIR: `/run/user/${process.getuid?.() ?? 0}` });
    expect(registeredStateDirs({ HOME: home })).toEqual([join(home, 'rt/isolate')]);
  });

  it('nothing is listed in a home without ~/.local/state', () => {
    rmSync(join(home, '.local'), { recursive: true });
    registerStateDir({ HOME: home, XDG_STATE_HOME: join(home, 's') });
    expect(existsSync(join(home, '.local'))).toBe(false);
  });

  it('the default state directory is not listed, nor anything for a home that is not there', () => {
    registerStateDir({ HOME: home });
    expect(existsSync(join(home, '.local/state/isolate/state-dirs'))).toBe(false);
    registerStateDir({ HOME: join(home, 'missing'), XDG_STATE_HOME: join(home, 's') });
    expect(existsSync(join(home, 'missing'))).toBe(false);
  });

  it('a list others can write is not trusted', () => {
    registerStateDir({ HOME: home, XDG_STATE_HOME: join(home, 's') });
    chmodSync(join(home, '.local/state/isolate/state-dirs'), 0o622);
    expect(registeredStateDirs({ HOME: home })).toEqual([]);
  });
});
