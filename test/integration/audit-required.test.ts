/**
 * A run whose records cannot be written, on a full disk (a 64 KiB tmpfs the
 * test mounts) and with a damaged log: without audit.required, a warning
 * that says which record is missing and the command's own exit code; with
 * audit.required, the command does not start when its start cannot be
 * recorded (exit 125), and exit 125 when its outcome cannot be, though it ran.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';
import { giveTo, homeWithProject, isolate, runners, type Project, type Runner } from '../helpers/isolate.js';
import { smallTmpfs, tmpfsUnavailable, type SmallDisk } from '../helpers/tmpfs.js';

const noTmpfs = tmpfsUnavailable();
if (noTmpfs !== undefined) console.warn(`skipping the full-disk audit tests: ${noTmpfs}`);

interface Report {
  exitCode: number;
  audit: { required: boolean; recorded: boolean; started: { seq: number } | null; completed: { seq: number } | null; warnings: string[] };
}

describe.each(runners())('audit log that cannot be written ($label)', (runner: Runner) => {
  let p: Project;
  beforeEach(() => {
    p = homeWithProject(runner);
  });
  afterEach(() => p.cleanup());

  const cli = (args: string[]) => isolate(runner, args, { cwd: p.project, env: p.env });
  const requiring = (log: string): string => {
    const file = join(p.home, 'required.yaml');
    writeFileSync(file, `extends: default\naudit: { required: true, log: ${JSON.stringify(log)} }\n`);
    giveTo(runner, file);
    return file;
  };
  const lineCount = (log: string): number => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').length - 1 : 0);

  describe.skipIf(noTmpfs !== undefined)('on a full disk', () => {
    let disk: SmallDisk;
    let log: string;
    /** A writable directory on the same small disk, beside the log (which must stay outside the writable paths). */
    let work: string;
    const mountDisk = (): void => {
      disk = smallTmpfs(64, runner);
      log = join(disk.dir, 'state', 'audit.jsonl');
      work = join(disk.dir, 'work');
      mkdirSync(work);
      // The log's directory exists, the caller's: a profile of the home (not one of isolate's configuration
      // directory) may log into a temporary directory only through directories no other user can change.
      mkdirSync(dirname(log));
      giveTo(runner, work);
      giveTo(runner, dirname(log));
    };
    beforeEach(mountDisk);
    afterEach(() => disk.unmount());

    it('no room at all: a warning for each record, the command runs, its exit code stands, no lock is left behind', () => {
      expect(cli(['run', '--audit-log', log, '--', 'true']).status).toBe(0);
      disk.fill();
      const t0 = Date.now();
      const r = cli(['run', '--audit-log', log, '--', 'sh', '-c', 'echo ran; exit 3']);
      expect(r.status).toBe(3);
      expect(r.stdout).toBe('ran\n');
      expect(r.stderr).toMatch(/warning: the start of this run is not in the audit log: .*(ENOSPC|no space)/);
      expect(r.stderr).toMatch(/warning: the outcome of this run is not in the audit log: .*(ENOSPC|no space)/);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(lineCount(log)).toBe(2);
      expect(existsSync(`${log}.lock`)).toBe(false);
      expect(cli(['audit', 'verify', log]).status).toBe(0);
    });

    it('no room and audit.required: the command does not start (exit 125, the reason and a fix)', () => {
      expect(cli(['run', '--audit-log', log, '--', 'true']).status).toBe(0);
      disk.fill();
      const r = cli(['run', '-p', requiring(log), '--', 'sh', '-c', 'echo ran > ran.txt']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('audit.required');
      expect(r.stderr).toContain('the command was not started');
      expect(r.stderr).toMatch(/ENOSPC|no space/);
      expect(r.stderr).toContain('fix: the file system (or your quota) is full');
      expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
      expect(lineCount(log)).toBe(2);
    });

    it('the command fills the disk: its start is recorded, its outcome is not; a warning and its exit code, or 125 with audit.required', () => {
      const fill = (): string => `cat /dev/zero > ${join(work, 'fill')}; echo ran; exit 7`;
      const plain = cli(['run', '--json', '--allow-write', work, '--audit-log', log, '--', 'sh', '-c', fill()]);
      expect(plain.status).toBe(7);
      const report = JSON.parse(plain.stdout) as Report;
      expect(report.audit).toMatchObject({ required: false, recorded: false, started: { seq: 1 }, completed: null });
      expect(report.audit.warnings.join('\n')).toMatch(/the outcome of this run is not in the audit log \(the log shows the run as incomplete\)/);
      expect(plain.stderr).toContain('warning: the outcome of this run is not in the audit log');
      expect(lineCount(log)).toBe(1);
      expect(cli(['audit', 'show', log]).stdout).toContain('incomplete (isolate was killed or the host stopped)');

      disk.unmount();
      mountDisk();
      const required = cli(['run', '-p', requiring(log), '--allow-write', work, '--', 'sh', '-c', fill()]);
      expect(required.stdout).toBe('ran\n');
      expect(required.status).toBe(125);
      expect(required.stderr).toContain('the outcome of this run is not in the audit log');
      expect(required.stderr).toContain('exit 125: the profile requires the audit log (audit.required), and the outcome of this run is not in it (its own exit code was 7)');
      expect(lineCount(log)).toBe(1);
    });
  });

  describe('a damaged log', () => {
    let log: string;
    beforeEach(() => {
      log = join(p.home, 'state', 'audit.jsonl');
      expect(cli(['run', '--audit-log', log, '--', 'true']).status).toBe(0);
    });
    const damages: [string, () => void][] = [
      ['a truncated last line', () => truncateSync(log, readFileSync(log).length - 10)],
      ['garbage appended', () => appendFileSync(log, 'garbage\n')],
    ];

    it.each(damages)('%s: a warning naming the damage and the command runs; the log is left as it was', (_name, damage) => {
      damage();
      const before = readFileSync(log);
      const r = cli(['run', '--audit-log', log, '--', 'sh', '-c', 'exit 4']);
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(/warning: the start of this run is not in the audit log: the audit log .* is damaged/);
      expect(r.stderr).toContain('isolate audit verify');
      expect(readFileSync(log)).toEqual(before);
    });

    it.each(damages)('%s with audit.required: the command does not start, exit 125 with the fix', (_name, damage) => {
      damage();
      const r = cli(['run', '-p', requiring(log), '--', 'sh', '-c', 'echo ran > ran.txt']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('is damaged');
      expect(r.stderr).toContain('fix:');
      expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
    });
  });
});

describe.skipIf(noTmpfs !== undefined)('the API on a full disk', () => {
  it('run() reports in report.audit that the run is not recorded, and why', async () => {
    const [self] = runners();
    if (self === undefined) throw new Error('no runner');
    const p = homeWithProject(self);
    const disk = smallTmpfs(64);
    try {
      const log = join(disk.dir, 'audit.jsonl');
      disk.fill();
      const report = await run(['sh', '-c', 'exit 5'], { callerCwd: p.project, callerEnv: p.env, audit: { log } });
      expect(report.exitCode).toBe(5);
      expect(report.audit).toMatchObject({ enabled: true, required: false, log, started: null, completed: null, recorded: false });
      expect(report.audit?.warnings).toHaveLength(2);
      expect(report.audit?.warnings.join('\n')).toMatch(/ENOSPC|no space/);
    } finally {
      disk.unmount();
      p.cleanup();
    }
  });
});
