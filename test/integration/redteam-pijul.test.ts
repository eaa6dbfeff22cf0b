/**
 * Red team: Pijul's repository hooks. Pijul 1.0 runs the commands of
 * `.pijul/config`'s `[hooks]` at `pijul record`, and earlier releases the
 * programs in `.pijul/hooks/` (`pre-record`): like git's hooks, a command
 * that wrote them into the project would have its code run by the user's
 * next record there, on the host. They stay read-only where they exist,
 * and ones a run creates are moved aside.
 *
 * Judged on the host: what the files hold after the run (pijul itself is
 * rarely installed).
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

describe.each(backendCases('red team: Pijul hooks'))('red team: Pijul hooks ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  const held = (rel: string): string => {
    const at = join(site.project, rel);
    return existsSync(at) ? readFileSync(at, 'utf8') : '';
  };
  const plant = (): string => `printf '[hooks]\\nrecord = ["touch ${site.marker}"]\\n' > .pijul/config; mkdir -p .pijul/hooks && printf '#!/bin/sh\\ntouch ${site.marker}\\n' > .pijul/hooks/pre-record`;

  it('an existing .pijul/config cannot be rewritten', () => {
    mkdirSync(join(site.project, '.pijul/pristine'), { recursive: true });
    writeFileSync(join(site.project, '.pijul/config'), '[remotes]\n');
    giveTo(runner, site.dir);
    const r = run(`${plant()}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(held('.pijul/config')).toBe('[remotes]\n');
    expect(held('.pijul/hooks/pre-record')).toBe('');
  });

  it('ones made in a repository that had none are moved aside', () => {
    mkdirSync(join(site.project, '.pijul/pristine'), { recursive: true });
    giveTo(runner, site.dir);
    const r = run(`${plant()}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(held('.pijul/config')).not.toContain('hooks');
    expect(held('.pijul/hooks/pre-record')).toBe('');
  });
});
