/**
 * The start-up snapshot (bin/isolate.js's sh part, src/cli/snapshot.ts): the
 * CLI started as npm links it runs from the snapshot built by `npm run build`,
 * and behaves exactly as the plain bundle does (stdio, exit codes, signals,
 * the timeout, the filtered network, a user profile, --json); a snapshot
 * whose key does not hold (another Node version, another Node binary, a
 * changed bundle, no blob) is never used, and the run goes on without it.
 *
 * Which one ran is read from the process itself: sh execs node, so the pid
 * the test started shows `node --snapshot-blob ...` or `node .../bin/isolate.js`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casesAtOnce } from '../helpers/cases-at-once.js';
import { DEFAULT_PATH, REPO, TEMP_PREFIX, homeWithProject, plant, pollFor, readProcInfo, runners, type Project, type Result, type Runner, START_WAIT_MS } from '../helpers/isolate.js';

const SNAPSHOT = join(REPO, 'dist', 'snapshot');
const missing = ['isolate.blob', 'isolate.key', 'isolate.cjs.sha256'].filter((f) => !existsSync(join(SNAPSHOT, f)));
if (missing.length > 0) console.warn(`snapshot tests skipped: ${missing.join(', ')} missing in dist/snapshot (npm run build makes them; its output says why it could not)`);

/** node first on PATH: the launcher finds the node that built the snapshot, as a user's shell does. */
const PATH = `${dirname(process.execPath)}:${DEFAULT_PATH}`;

/**
 * The launcher as the runner: `bin/isolate.js <args>`, started by the kernel through its #!/bin/sh line. A quick
 * command (--version) can end before this process, slowed by a loaded machine, reads how node was started: such a
 * run shows nothing either way and is started again, up to three times in all.
 */
async function launch(runner: Runner, bin: string, args: readonly string[], options: { cwd: string; env: Record<string, string>; input?: string }): Promise<Result & { snapshot: boolean }> {
  const [file, ...rest] = [...runner.prefix, bin, ...args];
  for (let attempt = 1; ; attempt++) {
    const child = spawn(file as string, rest, { cwd: options.cwd, env: { ...options.env, PATH, XDG_STATE_HOME: runner.stateDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    const r = await collect(child, options.input ?? '');
    if (r.seen || attempt === 3) return r;
  }
}

/** The command's result, whether it ran from the snapshot, and whether node was seen at all (false: it ended first). */
async function collect(child: ChildProcess, input: string): Promise<Result & { snapshot: boolean; seen: boolean }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(input);
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (status, signal) => resolve([status, signal])));
  // setpriv and sh exec: the pid becomes node's, started one way or the other.
  const argv = await pollFor('node to start', () => {
    const info = readProcInfo(child.pid ?? -1);
    if (info === undefined) return [];
    return /(^|\/)node$/.test(info.argv[0] ?? '') ? info.argv : undefined;
  }, 15_000);
  const [status, signal] = await ended;
  return { status, signal, stdout, stderr, snapshot: argv.includes('--snapshot-blob'), seen: argv.length > 0 };
}

/** The plain bundle, for comparison: `node bin/isolate.js <args>` (asynchronously: the test's server must answer meanwhile). */
function plain(runner: Runner, args: readonly string[], options: { cwd: string; env: Record<string, string>; input?: string }): Promise<Result & { snapshot: boolean }> {
  const [file, ...rest] = [...runner.prefix, process.execPath, runner.bin, ...args];
  const child = spawn(file as string, rest, { cwd: options.cwd, env: { ...options.env, PATH, XDG_STATE_HOME: runner.stateDir }, stdio: ['pipe', 'pipe', 'pipe'] });
  return collect(child, options.input ?? '');
}

// Each runner's runs in order; the two runners' at once (casesAtOnce).
casesAtOnce(runners(), 'the start-up snapshot ($label)', { skip: missing.length > 0 }, (runner) => {
  let p: Project;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    p = homeWithProject(runner);
    server = createServer((_req, res) => res.end('through-the-proxy'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    p.cleanup();
  });

  const both = async (args: string[], input?: string): Promise<[Result & { snapshot: boolean }, Result & { snapshot: boolean }]> => {
    const options = { cwd: p.project, env: p.env, ...(input === undefined ? {} : { input }) };
    return [await launch(runner, runner.bin, args, options), await plain(runner, args, options)];
  };

  it('runs from the snapshot, and stdin, stdout, stderr and the exit code are the command\'s, as without it', async () => {
    const [snap, base] = await both(['run', '--', 'sh', '-c', 'cat; echo to-stderr >&2; exit 3'], 'from-stdin\n');
    expect(snap.snapshot, snap.stderr).toBe(true);
    expect(snap).toMatchObject({ status: 3, stdout: 'from-stdin\n', stderr: 'to-stderr\n' });
    expect(base.snapshot).toBe(false);
    expect({ status: base.status, signal: base.signal, stdout: base.stdout, stderr: base.stderr }).toEqual({ status: snap.status, signal: snap.signal, stdout: snap.stdout, stderr: snap.stderr });
  });

  it('exit codes: 128+N for a signal, 127 for a missing command, 126 refused, 124 timeout, 125 a bad option', async () => {
    for (const [args, code] of [
      [['run', '--', 'sh', '-c', 'kill -TERM $$'], 143],
      [['run', '--', 'no-such-command-here'], 127],
      [['run', '--', '/etc/passwd'], 126],
      [['run', '--timeout', '1s', '--', 'sleep', '30'], 124],
      [['run', '--memory', 'lots', '--', 'true'], 125],
    ] as [string[], number][]) {
      const [snap, base] = await both(args);
      expect(snap.status, `${args.join(' ')}: ${snap.stderr}`).toBe(code);
      expect(snap.snapshot).toBe(true);
      expect(base.status).toBe(code);
      expect(snap.stderr).toBe(base.stderr);
    }
  });

  it('a signal to isolate reaches the command, as without the snapshot', async () => {
    const [file, ...rest] = [...runner.prefix, runner.bin, 'run', '--', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'];
    const child = spawn(file as string, rest, { cwd: p.project, env: { ...p.env, PATH, XDG_STATE_HOME: runner.stateDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    const result = collect(child, '');
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await pollFor('the command to start', () => (out.includes('ready') ? true : undefined), START_WAIT_MS);
    child.kill('SIGTERM');
    const r = await result;
    expect(r.snapshot).toBe(true);
    expect(r).toMatchObject({ status: 7, stdout: 'ready\ngot-term\n' });
  });

  it('the filtered network: an allowed server answers through the proxy, another is refused', async () => {
    const url = `http://localhost:${port}/`;
    const [allowed, allowedBase] = await both(['run', '--allow-domain', `localhost:${port}`, '--', 'curl', '-sS', url]);
    expect(allowed.snapshot).toBe(true);
    expect(allowed.stdout, allowed.stderr).toBe('through-the-proxy');
    expect(allowedBase.stdout, allowedBase.stderr).toBe('through-the-proxy');
    const [denied, base] = await both(['run', '--allow-domain', 'example.test', '--', 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', url]);
    expect(denied.stdout).toBe('403');
    expect(base.stdout).toBe('403');
  });

  it('a user profile in YAML (parsed and validated by code the snapshot loads on demand), and --json', async () => {
    plant(runner, p.project, 'profile.yaml', 'extends: default\nenvironment:\n  set:\n    FROM_PROFILE: "yes"\n');
    const [snap, base] = await both(['run', '--profile', './profile.yaml', '--json', '--', 'sh', '-c', 'echo "$FROM_PROFILE"']);
    expect(snap.snapshot).toBe(true);
    const report = JSON.parse(snap.stdout) as { exitCode: number; stdout: string; profile: { sources: string[] } };
    expect(report).toMatchObject({ exitCode: 0, stdout: 'yes\n' });
    expect(report.profile).toEqual((JSON.parse(base.stdout) as typeof report).profile);
    const [bad] = await both(['run', '--profile', './profile.yaml', '--bogus']);
    expect(bad.status).toBe(125);
    plant(runner, p.project, 'broken.yaml', 'filesystem:\n  writ: []\n');
    const [invalid, invalidBase] = await both(['run', '--profile', './broken.yaml', '--', 'true']);
    expect(invalid.status).toBe(125);
    expect(invalid.stderr).toBe(invalidBase.stderr);
    // zod's own messages, in English from either (the profile schema sets its language when it is built).
    plant(runner, p.project, 'mistyped.yaml', 'filesystem:\n  read: 3\n');
    const [mistyped, mistypedBase] = await both(['run', '--profile', './mistyped.yaml', '--', 'true']);
    expect(mistyped.status).toBe(125);
    expect(mistyped.stderr).toContain('filesystem.read: Invalid input: expected array, received number');
    expect(mistyped.stderr).toBe(mistypedBase.stderr);
  });

  it('with NODE_OPTIONS (V8 flags in it make Node refuse a snapshot built without them): the plain bundle runs, and the run is as it should be', async () => {
    const r = await launch(runner, runner.bin, ['run', '--', 'sh', '-c', 'echo ran; exit 5'], { cwd: p.project, env: { ...p.env, NODE_OPTIONS: '--max-old-space-size=4096' } });
    expect(r.snapshot).toBe(false);
    expect(r).toMatchObject({ status: 5, stdout: 'ran\n', stderr: '' });
  });

  it('nothing random is frozen into the snapshot: each run has its own run id', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = await launch(runner, runner.bin, ['run', '--json', '--', 'true'], { cwd: p.project, env: p.env });
      expect(r.snapshot).toBe(true);
      ids.add((JSON.parse(r.stdout) as { runId: string }).runId);
    }
    expect(ids.size).toBe(3);
  });

  it("nothing of the user who built it is frozen into the snapshot: the runner's own file on stdout is still relayed, so the command cannot chmod or re-time it", async () => {
    // The snapshot was built by the user who ran the build (root here); the unprivileged runner's uid is its own.
    const out = plant(runner, p.home, 'outside/out.log', '', 0o600);
    const fd = openSync(out, 'a');
    let r;
    try {
      const [file, ...rest] = [...runner.prefix, runner.bin, 'run', '--', 'sh', '-c', 'echo to-out; chmod 0666 /proc/self/fd/1; touch -d @978307200 /proc/self/fd/1; true'];
      r = await collect(spawn(file as string, rest, { cwd: p.project, env: { ...p.env, PATH, XDG_STATE_HOME: runner.stateDir }, stdio: ['pipe', fd, 'pipe'] }), '');
    } finally {
      closeSync(fd);
    }
    expect(r.snapshot, r.stderr).toBe(true);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('to-out\n');
    expect(statSync(out).mode & 0o7777).toBe(0o600);
    expect(statSync(out).mtimeMs / 1000).toBeGreaterThan(978307200);
  });

  it('help and version read the package from where it is', async () => {
    for (const args of [['--version'], ['run', '--help'], ['profiles', 'show', 'default']]) {
      const [snap, base] = await both(args);
      expect(snap.snapshot).toBe(true);
      expect({ status: snap.status, stdout: snap.stdout, stderr: snap.stderr }).toEqual({ status: base.status, stdout: base.stdout, stderr: base.stderr });
      expect(snap.stdout.length).toBeGreaterThan(0);
    }
  });

  it('isolate export starts from the plain bundle (its k8s format loads kubernetes-models, which the snapshot leaves out), and writes what it would write', async () => {
    const [launched, base] = await both(['export', '--format', 'k8s', '--allow-domain', 'example.com', '--', 'make']);
    expect(launched.snapshot).toBe(false);
    expect(launched.status).toBe(0);
    expect(launched.stdout).toContain('kind: Job');
    expect({ status: launched.status, stdout: launched.stdout }).toEqual({ status: base.status, stdout: base.stdout });
  });
});

describe.skipIf(missing.length > 0).each(runners())('a snapshot whose key does not hold is never used ($label)', (runner) => {
  let p: Project;
  let copy: string;
  const key = (): string => join(copy, 'dist', 'snapshot', 'isolate.key');
  const hash = (): string => join(copy, 'dist', 'snapshot', 'isolate.cjs.sha256');
  let fresh: { key: string; hash: string };

  beforeAll(() => {
    p = homeWithProject(runner);
    // A copy of the package the runner can read; each test changes one thing in it.
    copy = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}pkg-`));
    chmodSync(copy, 0o755);
    for (const part of ['bin', 'dist', 'profiles', 'package.json']) cpSync(join(REPO, part), join(copy, part), { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    fresh = { key: readFileSync(key(), 'utf8'), hash: readFileSync(hash(), 'utf8') };
  });
  afterAll(() => {
    rmSync(copy, { recursive: true, force: true });
    p.cleanup();
  });

  const run = () => launch(runner, join(copy, 'bin', 'isolate.js'), ['run', '--', 'sh', '-c', 'echo ran; exit 5'], { cwd: p.project, env: p.env });
  const restore = (): void => {
    writeFileSync(key(), fresh.key);
    writeFileSync(hash(), fresh.hash);
  };

  it('control: the copy, with its key as built, runs from its snapshot', async () => {
    restore();
    const r = await run();
    expect(r.snapshot, r.stderr).toBe(true);
    expect(r).toMatchObject({ status: 5, stdout: 'ran\n' });
  });

  const stale: [string, () => void][] = [
    ['built by another Node version', () => writeFileSync(key(), fresh.key.replace(/^v\d+\.\d+\.\d+$/m, 'v0.0.1'))],
    ['built by another Node binary', () => writeFileSync(key(), fresh.key.replace(/^\/.*$/m, '/opt/other/bin/node'))],
    ['built from another bundle (the bundle changed since)', () => writeFileSync(hash(), `${'0'.repeat(64)}\n`)],
    ['of another format', () => writeFileSync(key(), fresh.key.replace(/^isolate-snapshot 1$/m, 'isolate-snapshot 2'))],
  ];
  it.each(stale)('a key %s: the plain bundle runs, and the run is as it should be', async (_what, change) => {
    restore();
    change();
    try {
      const r = await run();
      expect(r.snapshot).toBe(false);
      expect(r).toMatchObject({ status: 5, stdout: 'ran\n', stderr: '' });
    } finally {
      restore();
    }
  });

  it('no blob: the plain bundle runs', async () => {
    const blob = join(copy, 'dist', 'snapshot', 'isolate.blob');
    const aside = `${blob}.aside`;
    cpSync(blob, aside);
    rmSync(blob);
    try {
      const r = await run();
      expect(r.snapshot).toBe(false);
      expect(r).toMatchObject({ status: 5, stdout: 'ran\n' });
    } finally {
      cpSync(aside, blob);
      rmSync(aside);
    }
  });
});
