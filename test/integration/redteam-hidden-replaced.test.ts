/**
 * Red team: a hidden path whose parent the sandbox can read (`dev`: the home
 * directory) stays hidden when a program on the host replaces it while the
 * command runs. `git credential-store`, shells saving their history, editors
 * and most config writers save by writing a new file and renaming it over
 * the old one, or by removing and recreating it; either removes the old
 * file's dentry, and the kernel detaches every mount on it in other mount
 * namespaces, the mount that hid it among them. The command then saw the
 * new file through the view of its parent. The same held for a hidden
 * directory removed (`rm -rf`) and made again, and for a symbolic link
 * beside the secret that points at it.
 *
 * Written as a failing finding first; it now guards the sealed parents
 * (backends/seal.ts).
 */
import { chownSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { giveTo, spawnIsolate, tempDirFor, DEFAULT_PATH, type Runner } from '../helpers/isolate.js';

/** Hidden by dev's deny list; each is replaced on the host during the run. */
const FILES = ['.git-credentials', '.netrc', '.config/git/credentials'];
const DIR_SECRET = '.ssh/id_ed25519';

/** What the sandbox reads, once before and once after the host's replacements. */
const READS = [...FILES, DIR_SECRET, 'to-credentials', '.config/to-credentials'];

function write(runner: Runner, path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode: 0o644 });
  chownSync(path, runner.uid, runner.gid);
}

/** The host's replacements: renamed over, removed and recreated, a hidden directory removed and made again. */
function replaceOnHost(runner: Runner, home: string): void {
  const [renamed, recreated, nested] = FILES.map((rel) => join(home, rel)) as [string, string, string];
  write(runner, `${renamed}.tmp`, 'RT-NEW .git-credentials\n');
  renameSync(`${renamed}.tmp`, renamed);
  unlinkSync(recreated);
  write(runner, recreated, 'RT-NEW .netrc\n');
  write(runner, `${nested}.tmp`, 'RT-NEW .config/git/credentials\n');
  renameSync(`${nested}.tmp`, nested);
  rmSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(join(home, '.ssh'));
  chownSync(join(home, '.ssh'), runner.uid, runner.gid);
  write(runner, join(home, DIR_SECRET), 'RT-NEW .ssh/id_ed25519\n');
}

/** Wait until `predicate` holds on the output so far, or the child exits. */
function waitFor(child: ReturnType<typeof spawnIsolate>, out: () => string, predicate: (text: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (predicate(out())) resolve();
    };
    child.stdout?.on('data', check);
    child.on('close', () => (predicate(out()) ? resolve() : reject(new Error(`the sandbox exited before it was ready:\n${out()}`))));
    check();
  });
}

/**
 * Run `script` under dev in `project`; once it prints READY, `onHost()` acts on the host, then a `go` file lets the
 * command read on. The command must exit 0; its stdout.
 */
async function runWhileHostActs(runner: Runner, backend: string, script: string, project: string, env: Record<string, string>, onHost: () => void): Promise<string> {
  const child = spawnIsolate(runner, ['run', '-p', 'dev', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  try {
    await waitFor(child, () => stdout, (text) => text.includes('READY'));
    onHost();
    write(runner, join(project, 'go'), '');
    const status = await closed;
    expect(status, stderr).toBe(0);
  } finally {
    child.kill('SIGKILL');
    await closed;
  }
  return stdout;
}

describe.each(backendCases('hidden files replaced on the host'))('red team: hidden paths replaced on the host during a run ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDirFor(runner)));
  afterEach(() => cleanup());

  it('dev keeps them hidden: renamed over, removed and recreated, a hidden directory made again, a link beside them', async () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    for (const rel of [...FILES, DIR_SECRET]) write(runner, join(home, rel), `RT-OLD ${rel}\n`);
    write(runner, join(home, 'visible.txt'), 'RT-VISIBLE\n');
    symlinkSync('.git-credentials', join(home, 'to-credentials'));
    symlinkSync('git/credentials', join(home, '.config/to-credentials'));
    giveTo(runner, dir);
    const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state'), ...backendEnv };
    const reads = READS.map((rel) => `cat ~/'${rel}' 2>/dev/null`).join('; ');
    const script = `${reads}; echo READY; i=0; while [ ! -e go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo AFTER; ${reads}; cat ~/visible.txt; echo made > made.txt`;
    const stdout = await runWhileHostActs(runner, backend, script, project, env, () => replaceOnHost(runner, home));
    expect(stdout).toContain('AFTER');
    expect(stdout, 'a visible file beside the hidden ones').toContain('RT-VISIBLE');
    expect(existsSync(join(project, 'made.txt')) && readFileSync(join(project, 'made.txt'), 'utf8'), 'the working directory stays writable').toBe('made\n');
    const leaked = stdout.split('\n').filter((line) => line.startsWith('RT-OLD') || line.startsWith('RT-NEW'));
    expect(leaked, 'hidden content the command read').toEqual([]);
  }, 90_000);

  it('a secret store a host program creates during the run stays hidden where the store did not exist at the start (gh auth login, cargo login)', async () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    // The home holds a hidden path (sealed); .config and .cargo hold none yet: no gh login, no cargo login.
    write(runner, join(home, DIR_SECRET), 'RT-OLD key\n');
    write(runner, join(home, '.config/visible.txt'), 'RT-VISIBLE\n');
    write(runner, join(home, '.cargo/env'), '# rustup\n');
    giveTo(runner, dir);
    const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state'), ...backendEnv };
    const made = ['.config/gh/hosts.yml', '.cargo/credentials.toml', '.config/git/credentials'];
    const reads = made.map((rel) => `cat ~/'${rel}' 2>/dev/null`).join('; ');
    const script = `echo READY; i=0; while [ ! -e go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo AFTER; ${reads}; cat ~/.config/visible.txt`;
    // A login on the host while the command runs: the store and its directory made anew.
    const stdout = await runWhileHostActs(runner, backend, script, project, env, () => {
      for (const rel of made) write(runner, join(home, rel), `RT-NEW ${rel}\n`);
    });
    expect(stdout).toContain('AFTER');
    expect(stdout, 'a visible file beside the hidden ones').toContain('RT-VISIBLE');
    const leaked = stdout.split('\n').filter((line) => line.startsWith('RT-NEW'));
    expect(leaked, 'a secret made on the host during the run, read by the command').toEqual([]);
  }, 90_000);
});
