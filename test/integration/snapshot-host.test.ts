/**
 * The start-up snapshot holds nothing of the machine, the user or the
 * environment that built it (src/cli/snapshot.ts, src/warm-up.ts,
 * src/warm-up-host.ts): its warm-up runs a run's code while the snapshot is
 * built, and a value it read (the boot id, a path, a variable) that stayed
 * in the snapshot would be served to every run on every machine after.
 *
 * A copy of the package, under a path of its own, builds its snapshot from
 * a directory of its own with HOME, TMPDIR and a variable that say so; the
 * blob is searched for each of them, the boot id and the host name. Then
 * the copy runs from that snapshot in another home and directory, and the
 * run sees those, not the build's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PATH, REPO, TEMP_PREFIX, pollFor, readProcInfo } from '../helpers/isolate.js';

const SNAPSHOT = join(REPO, 'dist', 'snapshot');
const built = existsSync(join(SNAPSHOT, 'isolate.blob')) && existsSync(join(SNAPSHOT, 'isolate.key'));
if (!built) console.warn('snapshot host tests skipped: dist/snapshot has no blob (npm run build makes it; its output says why it could not)');

describe.skipIf(!built)('the start-up snapshot keeps nothing of where it was built', () => {
  let work: string;
  let copy: string;
  let blob: Buffer;
  /** What the build's environment and machine had: none of it may be in the blob. */
  const marks: Record<string, string> = {};

  beforeAll(() => {
    work = realpathSync(mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}snapshot-host-`)));
    chmodSync(work, 0o755);
    copy = join(work, 'package-built-here');
    for (const part of ['bin', 'dist', 'profiles', 'package.json']) cpSync(join(REPO, part), join(copy, part), { recursive: true });
    for (const f of ['isolate.blob', 'isolate.key']) rmSync(join(copy, 'dist', 'snapshot', f), { force: true });
    for (const d of ['home-of-the-build', 'cwd-of-the-build', 'tmp-of-the-build']) mkdirSync(join(work, d));
    Object.assign(marks, {
      package: copy,
      home: join(work, 'home-of-the-build'),
      cwd: join(work, 'cwd-of-the-build'),
      tmpdir: join(work, 'tmp-of-the-build'),
      variable: 'a-value-of-the-build-environment-5f1c',
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    });
    const env = { PATH: `${dirname(process.execPath)}:${DEFAULT_PATH}`, HOME: marks['home'] as string, TMPDIR: marks['tmpdir'] as string, BUILD_MARK: marks['variable'] as string };
    const r = spawnSync(process.execPath, [join(copy, 'dist', 'cli', 'snapshot.js')], { cwd: marks['cwd'], env, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    blob = readFileSync(join(copy, 'dist', 'snapshot', 'isolate.blob'));
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the blob holds no path, variable, boot id or host name of the build', () => {
    const found = Object.entries(marks).filter(([, value]) => blob.includes(value));
    expect(found, 'values of the build found in the blob').toEqual([]);
    // Where the snapshot's entry and blob were (Node keeps its entry's file name and its arguments): not this checkout either.
    expect(blob.includes(REPO.replace(/\/$/, ''))).toBe(false);
    // A host name too short to tell from the code's own words (e.g. "vm") is not searched for.
    if (hostname().length >= 6) expect(blob.includes(`"${hostname()}"`)).toBe(false);
  });

  it('a run from it, in another home and directory, sees those', async () => {
    const home = join(work, 'home-of-the-run');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    const env = { PATH: `${dirname(process.execPath)}:${DEFAULT_PATH}`, HOME: home, XDG_STATE_HOME: join(home, 'state') };
    const child = spawn(join(copy, 'bin', 'isolate.js'), ['run', '--json', '--', 'sh', '-c', 'pwd'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
    const argv = await pollFor('node to start', () => {
      const info = readProcInfo(child.pid ?? -1);
      return info !== undefined && /(^|\/)node$/.test(info.argv[0] ?? '') ? info.argv : undefined;
    }, 15_000);
    expect(await ended, err).toBe(0);
    expect(argv).toContain('--snapshot-blob');
    const report = JSON.parse(out) as { exitCode: number; stdout: string; cwd: string; audit: { log: string | null } };
    expect(report).toMatchObject({ exitCode: 0, stdout: `${project}\n`, cwd: project });
    expect(report.audit.log).toBe(join(home, 'state', 'isolate', 'audit.jsonl'));
  });
});
