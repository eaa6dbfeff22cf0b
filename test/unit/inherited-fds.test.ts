import { closeSync, mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPathFds } from '../../src/run/launch/path-fds.js';
import { inheritableFds, withStraysShut } from '../../src/run/inherited-fds.js';

describe('withStraysShut: the launcher gets /dev/null where the caller left a descriptor, and the flag that closes it', () => {
  it('puts /dev/null on each stray slot, past the planned ones too, and names each after argv[0]', () => {
    const r = withStraysShut(['/usr/bin/bwrap', '--args', '3', '--', 'true'], ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'], [7, 200], 42, '--args');
    expect(r.argv).toEqual(['/usr/bin/bwrap', '--args', '7', '--args', '200', '--args', '3', '--', 'true']);
    expect(r.stdio.length).toBe(201);
    expect(r.stdio.slice(0, 5)).toEqual(['inherit', 'inherit', 'inherit', 'pipe', 'pipe']);
    expect(r.stdio[7]).toBe(42);
    expect(r.stdio[200]).toBe(42);
    expect(r.stdio.filter((s) => s !== 'ignore').length).toBe(7);
  });

  it('names each after the launcher, not after the program that starts it (setpriv)', () => {
    const r = withStraysShut(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', '/usr/bin/bwrap', '--args', '3', '--', 'true'], ['inherit', 'inherit', 'inherit'], [9], 42, '--args', 4);
    expect(r.argv).toEqual(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', '/usr/bin/bwrap', '--args', '9', '--args', '3', '--', 'true']);
  });

  it('fills an unplanned slot below the planned ones', () => {
    const r = withStraysShut(['nsjail-launch'], ['pipe', 'pipe', 'pipe', 'pipe', 'ignore', 'pipe'], [4], 9, undefined);
    expect(r.stdio).toEqual(['pipe', 'pipe', 'pipe', 'pipe', 9, 'pipe']);
    expect(r.argv).toEqual(['nsjail-launch']); // the launcher closes them itself
  });
});

const LINUX = process.platform === 'linux';
if (!LINUX) console.warn('inheritableFds checks skipped: they read /proc/self/fdinfo, which only Linux has');
describe.skipIf(!LINUX)('inheritableFds (Linux)', () => {
  it('never lists a descriptor isolate opens itself, a path descriptor for the launcher included (Node opens every one close-on-exec)', () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-fds-')));
    const file = join(dir, 'f');
    writeFileSync(file, '');
    const fd = openSync(file, 'r');
    const paths = openPathFds([{ fd: 6, path: dir }]);
    try {
      const found = inheritableFds();
      expect(found).not.toContain(fd);
      for (const handle of paths.values()) expect(found).not.toContain(handle);
      expect(found.every((n) => n >= 3)).toBe(true);
    } finally {
      closeSync(fd);
      for (const handle of paths.values()) closeSync(handle);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
