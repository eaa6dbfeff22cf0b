/**
 * Red team: the audit log's head file, hidden from a dev run when the log
 * is kept in the home directory. The kernel detaches a mount from a path
 * that is renamed over in another mount namespace, so while the head file
 * was replaced by rename on every append, a record appended during the run
 * (its own start, or another run's) uncovered the new head file in the
 * sandbox: the command read it.
 *
 * Judged by what the command printed: it reads the head file after another
 * run has appended to the log.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH, giveTo, isolate, isolateAsync, tempDirFor } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: the audit head file'))('red team: the audit head file ($label)', ({ runner, backend, backendEnv }) => {
  it('stays hidden while other runs append to the log', async () => {
    const { dir: home, cleanup } = tempDirFor(runner);
    try {
      mkdirSync(join(home, 'project'));
      mkdirSync(join(home, 'logs'));
      const log = join(home, 'logs/audit.jsonl');
      giveTo(runner, home);
      const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: '', ...backendEnv };
      const cwd = join(home, 'project');
      const args = ['run', '--backend', backend, '-p', 'dev', '--audit-log', log, '--'];
      expect(isolate(runner, [...args, 'true'], { cwd, env }).status).toBe(0);
      const reader = isolateAsync(runner, [...args, 'sh', '-c', `while [ ! -e ${join(home, 'project', 'go')} ]; do sleep 0.05; done; cat ${log}.head 2>&1; true`], { cwd, env, timeoutMs: 30_000 });
      // Other runs append while the reader's sandbox is up; the last one lets it read.
      for (let i = 0; i < 3; i++) expect(isolate(runner, [...args, 'true'], { cwd, env }).status).toBe(0);
      expect(isolate(runner, [...args, 'touch', 'go'], { cwd, env }).status).toBe(0);
      const r = await reader;
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(`${log}.head`, 'utf8'), 'control: the head file holds the last record').toContain('"seq":12');
      expect(r.stdout).not.toContain('"seq"');
    } finally {
      cleanup();
    }
  });
});
