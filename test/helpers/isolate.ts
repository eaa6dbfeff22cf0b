/**
 * Run the real isolate CLI as the current user and, when the tests run as
 * root, also as an unprivileged user. Every sandbox test loops over `runners()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface Runner {
  label: string;
  uid: number;
  gid: number;
  /** Path of bin/isolate.js this runner can execute. */
  bin: string;
  /** Prefix that switches to this runner's user (empty for the current user). */
  prefix: string[];
  /** XDG_STATE_HOME for this runner: its audit log lives in a temp directory. */
  stateDir: string;
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runners(): Runner[] {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const states = inject('stateDirs');
  const self: Runner = { label: uid === 0 ? 'as root' : `as uid ${uid}`, uid, gid, bin: join(REPO, 'bin', 'isolate.js'), prefix: [], stateDir: states.self };
  const u = inject('unprivileged');
  if (u === null || states.unprivileged === null) return [self];
  return [
    self,
    {
      label: `as unprivileged ${u.user}`,
      uid: u.uid,
      gid: u.gid,
      bin: join(u.packageDir, 'bin', 'isolate.js'),
      prefix: ['setpriv', `--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--'],
      stateDir: states.unprivileged,
    },
  ];
}

/**
 * How long a started isolate (or a command as the runner) may take before the test kills it: a guard against a hang,
 * not a measure. A quiet machine takes well under a second; a loaded 2-core CI runner took over 20 s for one start.
 */
export const RUN_TIMEOUT_MS = 60_000;

/** How long a test waits for a sandbox, a command in it, its proxy or its first record to come up: a guard, as above. */
export const START_WAIT_MS = 60_000;

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  /** Descriptors the started process inherits besides stdio: its descriptor number -> one of this process's. */
  fds?: Readonly<Record<number, number>>;
}

/** stdio for spawnSync: piped 0-2, and each of `fds` at its number (the slots between are left alone). */
function stdioWith(fds: Readonly<Record<number, number>> = {}): ('pipe' | 'ignore' | number)[] {
  const stdio: ('pipe' | 'ignore' | number)[] = ['pipe', 'pipe', 'pipe'];
  for (const [at, fd] of Object.entries(fds)) {
    while (stdio.length <= Number(at)) stdio.push('ignore');
    stdio[Number(at)] = fd;
  }
  return stdio;
}

/**
 * How the tests start the CLI: bin/isolate.js itself, as npm links it and a
 * user runs it: through sh, from the start-up snapshot when its key holds
 * (about 45 ms less CPU a start than the plain bundle). node must then be on
 * the PATH each test passes (DEFAULT_PATH); where it is not (node from nvm),
 * or with ISOLATE_TEST_LAUNCHER=0, they start `node bin/isolate.js`, the
 * plain bundle, as the GitHub Action does. test/integration/snapshot.test.ts
 * compares the two.
 */
const VIA_LAUNCHER = process.env['ISOLATE_TEST_LAUNCHER'] === '1' || (process.env['ISOLATE_TEST_LAUNCHER'] !== '0' && nodeOnDefaultPath());

/** Whether the launcher finds a node on DEFAULT_PATH, as it looks for one (an executable file named node). */
function nodeOnDefaultPath(): boolean {
  return DEFAULT_PATH.split(':').some((dir) => {
    try {
      accessSync(join(dir, 'node'), constants.X_OK);
      return statSync(join(dir, 'node')).isFile();
    } catch {
      return false;
    }
  });
}

function cliArgv(runner: Runner, args: readonly string[]): string[] {
  return VIA_LAUNCHER ? [...runner.prefix, runner.bin, ...args] : [...runner.prefix, process.execPath, runner.bin, ...args];
}

/** Run `isolate <args>` as the runner, with exactly `env` (plus PATH if not given). */
export function isolate(runner: Runner, args: readonly string[], options: RunOptions): Result {
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', XDG_STATE_HOME: runner.stateDir, ...(options.env ?? {}) };
  const [file, ...rest] = cliArgv(runner, args);
  const r = spawnSync(file as string, rest, {
    cwd: options.cwd,
    env,
    stdio: stdioWith(options.fds),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? RUN_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Remove a test's tree, also when a sandbox left in it directories that its
 * owner cannot list or enter (chmod 0300, 000: an ordinary user must open
 * them first) or paths longer than PATH_MAX (Node's rmSync stops there; GNU
 * rm walks by descriptor). Throws when the tree is still there.
 */
export function removeTestTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
    return;
  } catch {
    spawnSync('chmod', ['-R', 'u+rwx', dir]);
    spawnSync('rm', ['-rf', dir]);
  }
  if (existsSync(dir)) throw new Error(`the test tree ${dir} could not be removed`);
}

/** A temp directory owned by the runner's user; remove it with the returned function. */
export function tempDirFor(runner: Runner, prefix = 'isolate-it-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, runner.uid, runner.gid);
  return { dir, cleanup: () => removeTestTree(dir) };
}

/**
 * A temp directory of the runner's with an empty `project` in it, and the
 * environment of a run there: HOME beside the project (not created), the
 * default PATH, and `extraEnv` (e.g. a backend's variables).
 */
export function projectSite(runner: Runner, prefix: string, extraEnv: Record<string, string> = {}): { dir: string; project: string; env: Record<string, string>; cleanup: () => void } {
  const { dir, cleanup } = tempDirFor(runner, prefix);
  const project = join(dir, 'project');
  mkdirSync(project);
  giveTo(runner, dir);
  return { dir, project, env: { HOME: join(dir, 'home'), PATH: DEFAULT_PATH, ...extraEnv }, cleanup };
}

/** chown -R a tree to the runner after a test wrote files into it as root. */
export function giveTo(runner: Runner, path: string): void {
  spawnSync('chown', ['-R', `${runner.uid}:${runner.gid}`, path]);
}

// ---------------------------------------------------------------------------
// Additions for the integration suite (test/integration). Existing exports
// above keep their behaviour.

/** Every temp entry the integration tests create in /tmp starts with this. */
export const TEMP_PREFIX = 'isolate-it-';

export interface Project {
  /** A fake home directory owned by the runner (pass it as HOME). */
  home: string;
  /** `home/project`: the working directory of the runs. */
  project: string;
  /** The environment to run isolate with: HOME and PATH. */
  env: Record<string, string>;
  cleanup: () => void;
}

/** A fake home owned by the runner, with a project directory inside it. */
export function homeWithProject(runner: Runner, prefix = TEMP_PREFIX): Project {
  const { dir: home, cleanup } = tempDirFor(runner, prefix);
  const project = join(home, 'project');
  mkdirSync(project);
  chownSync(project, runner.uid, runner.gid);
  return { home, project, env: { HOME: home, PATH: DEFAULT_PATH }, cleanup };
}

/**
 * Write `content` to `root/rel` (creating parent directories) and give
 * everything under `root` to the runner, so the file is readable by the
 * runner on the host (the positive control for "hidden in the sandbox").
 */
export function plant(runner: Runner, root: string, rel: string, content: string, mode = 0o644): string {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  giveTo(runner, root);
  return file;
}

/** Run argv directly on the host as the runner (no sandbox): positive controls. */
export function asRunner(runner: Runner, argv: readonly string[], options: RunOptions): Result {
  const env = { PATH: DEFAULT_PATH, ...(options.env ?? {}) };
  const [file, ...rest] = [...runner.prefix, ...argv];
  const r = spawnSync(file as string, rest, {
    cwd: options.cwd,
    env,
    stdio: stdioWith(options.fds),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? RUN_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Whether `argv` is isolate's node process as the runner started it: with the
 * bin on its command line, or, started from the snapshot, the package's
 * directory (bin/isolate.js passes it in the bin's place).
 */
export function isIsolateArgv(runner: Runner, argv: readonly string[]): boolean {
  return argv.includes(runner.bin) || (argv.includes('--snapshot-blob') && argv.includes(dirname(dirname(runner.bin))));
}

/** The argv that starts the CLI as the runner (setpriv execs, so the pid is node's). */
export function isolateArgv(runner: Runner, args: readonly string[]): string[] {
  return cliArgv(runner, args);
}

/** Start `isolate <args>` as the runner without waiting for it. */
export function spawnIsolate(runner: Runner, args: readonly string[], options: Omit<RunOptions, 'input' | 'timeoutMs'>): ChildProcess {
  const env = { PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir, ...(options.env ?? {}) };
  const [file, ...rest] = isolateArgv(runner, args);
  return spawn(file as string, rest, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Spawn argv with exactly env (plus PATH), collect its output, without blocking this process's event loop. */
function collectAsync(argv: readonly string[], options: RunOptions): Promise<Result> {
  const env = { PATH: DEFAULT_PATH, ...(options.env ?? {}) };
  const [file, ...rest] = argv;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file as string, rest, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status, signal, stdout, stderr });
    });
  });
}

/** As isolate(), but without blocking this process's event loop (a test server can answer meanwhile). */
export function isolateAsync(runner: Runner, args: readonly string[], options: RunOptions): Promise<Result> {
  return collectAsync(isolateArgv(runner, args), { ...options, env: { XDG_STATE_HOME: runner.stateDir, ...(options.env ?? {}) } });
}

/** As asRunner(), but without blocking this process's event loop. */
export function asRunnerAsync(runner: Runner, argv: readonly string[], options: RunOptions): Promise<Result> {
  return collectAsync([...runner.prefix, ...argv], options);
}

/** A recursive listing of a directory: relative path -> type and content (files), for before/after comparisons. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (entry.isSymbolicLink()) out[rel] = `link:${readlinkSync(path)}`;
      else if (entry.isDirectory()) {
        out[rel] = 'dir';
        walk(path);
      } else if (entry.isFile()) out[rel] = `file:${readFileSync(path, 'utf8')}`;
      else out[rel] = 'other';
    }
  };
  walk(root);
  return out;
}

/** The records of an audit log, one object per line; none when it does not exist yet. */
export function auditRecords(log: string): Record<string, unknown>[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Lines of `key=value` output -> object. */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** A stack trace line as Node prints it. */
export const STACK_LINE = /^\s{4}at /m;

// ---------------------------------------------------------------------------
// Process helpers for the limits, faults and seccomp tests (appended; the
// exports above are unchanged).

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** One-letter state from /proc/PID/stat (Z: zombie). */
  state: string;
  argv: string[];
}

/** /proc/PID/stat and cmdline, or undefined when the process is gone. */
export function readProcInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
    return { pid, state: rest[0] ?? '?', ppid: Number(rest[1]), argv };
  } catch {
    return undefined;
  }
}

export function listProcs(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProcInfo(Number(n)))
    .filter((p): p is ProcInfo => p !== undefined);
}

/** Every process below `root` (by ppid), from one snapshot of /proc. */
export function descendants(root: number): ProcInfo[] {
  const procs = listProcs();
  const out: ProcInfo[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop() as number;
    for (const p of procs) {
      if (p.ppid === parent) {
        out.push(p);
        frontier.push(p.pid);
      }
    }
  }
  return out;
}

/** Live (not zombie) processes running exactly `sleep <duration>`. */
export function sleepProcs(duration: string): ProcInfo[] {
  return listProcs().filter((p) => p.state !== 'Z' && p.argv.length === 2 && /(^|\/)sleep$/.test(p.argv[0] ?? '') && p.argv[1] === duration);
}

let uniqueCounter = 0;
/** A `sleep` duration (seconds) no other test or process uses, so its processes can be found by argv. */
export function uniqueSleep(base: number): string {
  uniqueCounter++;
  return `${base}.${process.pid}${String(uniqueCounter).padStart(3, '0')}`;
}

/** Poll `probe` every 25 ms until it returns a value other than undefined; a guard of 30 s by default (a loaded 2-core runner is slow to start a sandbox). */
export async function pollFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SIGKILL every live `sleep <duration>` process (cleanup after a test). */
export function killSleepers(duration: string): void {
  for (const s of sleepProcs(duration)) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Peak resident set size of a live process in KiB (VmHWM), or undefined when it is gone. */
export function peakRssKiB(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}
