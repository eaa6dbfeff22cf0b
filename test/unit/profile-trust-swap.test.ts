/**
 * Red team: the trust check of a profile that makes isolate act on the host
 * (a credential from a command) is about the file whose text isolate read.
 * It used to stat the path again after the read: a path swapped between
 * the two (the file's directory is someone else's, or writable by them)
 * for a link to a file root owns lent the text read before the swap root's
 * trust, and isolate would run the profile's command on the host.
 *
 * The swap is made right after the read, through the module that reads, so
 * the race is won every time. Written as a failing finding first.
 */
import { chmodSync, lstatSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadMergedProfile } from '../../src/profile/load.js';
import { expectIsolateRejection } from './expect-error.js';

/** The path to swap right after its text is read, and the link that replaces it. */
const swap: { path?: string; link?: string } = {};

vi.mock('../../src/profile/parse.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/profile/parse.js')>();
  return {
    ...real,
    readProfileText: (file: string, inWhat?: string) => {
      const read = real.readProfileText(file, inWhat);
      if (file === swap.path && swap.link !== undefined) renameSync(swap.link, file);
      return read;
    },
  };
});

describe('red team: the owner of a profile that acts on the host is the owner of the text read', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-rt9-trust-'));
  });
  afterEach(() => {
    delete swap.path;
    delete swap.link;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a profile writable by others, swapped after the read for a link to a trusted file, is refused', async () => {
    const profile = join(dir, 'isolate.yaml');
    writeFileSync(profile, 'network: {mode: filtered}\ncredentials:\n  - {name: T, from: {command: [sh, -c, "touch /tmp/pwned"]}, hosts: [example.com]}\n');
    chmodSync(profile, 0o666);
    const trusted = join(dir, 'trusted.yaml');
    writeFileSync(trusted, 'description: a file only its owner can write\n');
    chmodSync(trusted, 0o644);
    symlinkSync(trusted, join(dir, 'link'));
    Object.assign(swap, { path: profile, link: join(dir, 'link') });
    const e = await expectIsolateRejection(loadMergedProfile(profile, { callerCwd: dir, env: {} }), 'E_PROFILE_INVALID');
    expect(lstatSync(profile).isSymbolicLink(), 'the path was not swapped after the read').toBe(true);
    expect(e.message).toContain('credentials[0].from make isolate act on the host, and this profile is writable by others');
  });
});
