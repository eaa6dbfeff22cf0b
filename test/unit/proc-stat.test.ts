/** One process's /proc/<pid>/stat (host/proc-stat.ts), read from live processes. Linux; temp dirs only; the process it starts is stopped. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { procStat } from '../../src/host/proc-stat.js';

const WHY = '/proc/<pid>/stat is Linux\'s';
if (process.platform !== 'linux') console.warn(`proc-stat skipped: ${WHY}`);

describe.skipIf(process.platform !== 'linux')('procStat', () => {
  it('numbers fields as proc(5) does: 4 is the parent', () => {
    const self = procStat('self');
    expect(self?.field(4)).toBe(String(process.ppid));
    expect(self?.field(3)).toMatch(/^[RSD]$/);
    expect(procStat(2 ** 22 + 1)).toBeUndefined();
  });

  it('reads a command name with spaces and parentheses whole, and the fields after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolate-proc-stat-'));
    const odd = join(dir, 'a (b) c');
    symlinkSync('/bin/sleep', odd);
    const child = spawn(odd, ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const stat = procStat(child.pid as number);
      expect(stat?.comm).toBe('a (b) c');
      expect(stat?.field(4)).toBe(String(process.pid));
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
