/**
 * Red team: a file in the writable project that has another name outside
 * it (a hard link). Package managers make them on purpose: pnpm links every
 * file of node_modules to its store in the home directory, uv links a
 * virtual environment's files to its cache, bun to its cache, and a local
 * `git clone` links the objects of both repositories. A write through the
 * project's name changes the one file both names lead to: a malicious
 * dependency that rewrote node_modules/<pkg>/index.js in place would change
 * the store's copy, and so the package in every other project on the host,
 * which runs it outside any sandbox. Such a file stays read-only for the
 * run; more than 64 of them under one package tree (node_modules/.pnpm) keep
 * that tree read-only whole, while the rest of node_modules stays writable.
 *
 * Judged on the host: what the file outside the project holds after the run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo, isolate } from '../helpers/isolate.js';
import { projectRuns } from '../helpers/project-runs.js';
import { backendCases } from '../helpers/backends.js';
import { MAX_LINKED_FILES, MAX_LINKED_IN_TREE } from '../../src/host/linked-files.js';
import { SETTLE_MS } from '../../src/host/scan-cache.js';
import { scanCacheDir } from '../../src/host/scan-cache-file.js';
import { decodeScanCache } from '../../src/host/scan-cache-codec.js';
import { cacheFiles, recordAt } from '../helpers/scan-cache.js';

const ORIGINAL = 'module.exports = 1;\n';
const PLANTED = 'require("child_process").execSync("touch /tmp/owned");\n';
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Every way a command could change a file through a name: write, append, truncate, chmod, touch, rename, remove. */
const attack = (file: string): string =>
  `printf '%s' '${PLANTED}' > ${file}; printf x >> ${file}; truncate -s 0 ${file}; chmod 0777 ${file}; touch -d @978307200 ${file}; mv ${file} ${file}.moved; rm -f ${file}`;

describe.each(backendCases('red team: hard links'))('red team: hard links out of the project ($label)', ({ runner, backend, backendEnv }) => {
  const { p, run } = projectRuns(runner, backend, backendEnv);
  const stdoutOf = (r: { stdout: string }): string => (JSON.parse(r.stdout) as { stdout: string }).stdout;

  /** A store in the home with `n` files, each linked into the project at `dir` (relative). */
  const linkedStore = (dir: string, n: number): string => {
    const store = join(p.home, 'store');
    mkdirSync(store, { recursive: true });
    mkdirSync(join(p.project, dir), { recursive: true });
    for (let i = 0; i < n; i++) {
      writeFileSync(join(store, `f${String(i)}.js`), ORIGINAL, { mode: 0o644 });
      linkSync(join(store, `f${String(i)}.js`), join(p.project, dir, `f${String(i)}.js`));
    }
    return store;
  };
  /** A pnpm-like node_modules: the files of pkg in node_modules/.pnpm, linked to the store; node_modules/pkg a symbolic link to them. */
  const pnpmProject = (n: number): string => {
    const inner = 'node_modules/.pnpm/pkg@1.0.0/node_modules/pkg';
    const store = linkedStore(inner, n);
    symlinkSync('.pnpm/pkg@1.0.0/node_modules/pkg', join(p.project, 'node_modules/pkg'));
    return store;
  };
  /** isolate's state (the protected-name search's cache) in the test's own home, not the runner's shared one. */
  const ownState = (): string => {
    const state = join(p.home, '.local/state');
    mkdirSync(state, { recursive: true });
    p.env = { ...p.env, XDG_STATE_HOME: state };
    return state;
  };
  const storeUnchanged = (store: string, n: number): void => {
    for (let i = 0; i < n; i++) {
      const f = join(store, `f${String(i)}.js`);
      expect(readFileSync(f, 'utf8'), f).toBe(ORIGINAL);
      expect(statSync(f).mode & 0o7777, f).toBe(0o644);
      expect(statSync(f).mtimeMs, f).toBeGreaterThan(978307200_000 + 1000);
    }
  };

  it('a file linked to a store outside the project cannot be written, truncated, chmod-ed, touched, moved or removed through the project', () => {
    const store = linkedStore('node_modules/pkg', 1);
    giveTo(runner, p.home);
    const r = run(`cat node_modules/pkg/f0.js; ${attack('node_modules/pkg/f0.js')}; mv node_modules nm; mv node_modules/pkg node_modules/q; echo survived`);
    expect(r.status, r.stderr).toBe(0);
    expect(stdoutOf(r)).toContain('survived');
    expect(stdoutOf(r)).toContain(ORIGINAL.trim());
    storeUnchanged(store, 1);
    expect(statSync(join(store, 'f0.js')).nlink).toBe(2);
  });

  it('a pnpm-like tree with many linked files: node_modules/.pnpm is read-only whole, the store unchanged, node_modules/.cache writable', () => {
    const n = MAX_LINKED_IN_TREE + 6;
    const store = pnpmProject(n);
    giveTo(runner, p.home);
    const r = run(`cat node_modules/pkg/f0.js >/dev/null && ${attack('node_modules/pkg/f1.js')}; ${attack('node_modules/.pnpm/pkg@1.0.0/node_modules/pkg/f2.js')}; touch node_modules/.pnpm/new; mkdir -p node_modules/.cache/tool && echo cached > node_modules/.cache/tool/x && echo wrote-cache`);
    expect(r.status, r.stderr).toBe(0);
    expect(stdoutOf(r)).toContain('wrote-cache');
    storeUnchanged(store, n);
    expect(readFileSync(join(p.project, 'node_modules/.cache/tool/x'), 'utf8')).toBe('cached\n');
    expect(existsSync(join(p.project, 'node_modules/.pnpm/new'))).toBe(false);
  });

  it('explain names the read-only tree, why, and the ways out', () => {
    pnpmProject(MAX_LINKED_IN_TREE + 1);
    giveTo(runner, p.home);
    const r = isolate(runner, ['explain', '--backend', backend, '--', 'true'], { cwd: p.project, env: { ...p.env, ...backendEnv } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(p.project, 'node_modules/.pnpm'));
    expect(r.stdout).toContain('package-import-method=copy');
    expect(r.stdout).toContain('UV_LINK_MODE=copy');
  });

  it('a second run, from the cache of the first, still keeps the linked files read-only', () => {
    const n = MAX_LINKED_IN_TREE + 1;
    const store = pnpmProject(n);
    const single = linkedStore('lib', 1);
    const state = ownState();
    giveTo(runner, p.home);
    sleep(SETTLE_MS + 300); // the listings are recorded as reusable: the second run takes them from the cache
    expect(run('true').status).toBe(0);
    // The first run's cache keeps the package directory's listing as reusable, with its linked files: the second run takes them from there, no lstat.
    const trees = cacheFiles(scanCacheDir({ XDG_STATE_HOME: state }) as string).map((f) => decodeScanCache(readFileSync(f)));
    const tree = trees.find((c) => c.header.root === p.project)?.tree;
    const at = tree === undefined ? undefined : recordAt(tree, 'node_modules/.pnpm/pkg@1.0.0/node_modules/pkg');
    expect(at).toBeDefined();
    expect(tree?.reusable(at as number)).toBe(true);
    expect(tree?.linked(at as number)).toHaveLength(n);
    const r = run(`${attack('node_modules/pkg/f0.js')}; ${attack('lib/f0.js')}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(stdoutOf(r)).toContain('done');
    storeUnchanged(store, n);
    storeUnchanged(single, 1);
  });

  it('a link made from elsewhere to a file of a directory unchanged since the last run is seen once that directory changes', () => {
    mkdirSync(join(p.project, 'lib'));
    writeFileSync(join(p.project, 'lib/a.js'), ORIGINAL, { mode: 0o644 });
    ownState();
    giveTo(runner, p.home);
    sleep(SETTLE_MS + 300);
    expect(run('true').status).toBe(0);
    // The documented limitation: link(2) changes the file's ctime, not its directory's. Nothing is asserted until the directory changes.
    const outside = join(p.home, 'outside.js');
    linkSync(join(p.project, 'lib/a.js'), outside);
    writeFileSync(join(p.project, 'lib/b.js'), '');
    giveTo(runner, p.home);
    const r = run(`${attack('lib/a.js')}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(outside, 'utf8')).toBe(ORIGINAL);
  });

  /** A repository in the home with `n` files committed, cloned into the project's `clone` by `git clone --local` (which links the objects); each object's bytes by path below .git/objects. */
  const localClone = (n: number): Map<string, Buffer> => {
    const src = join(p.home, 'src');
    mkdirSync(src);
    for (let i = 0; i < n; i++) writeFileSync(join(src, `f${String(i)}.txt`), `${String(i)}\n`);
    const git = (args: string[], cwd: string): void => void execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, env: { PATH: process.env['PATH'] ?? '', HOME: p.home, GIT_CONFIG_NOSYSTEM: '1' }, stdio: 'ignore' });
    git(['init', '-q', '.'], src);
    git(['add', '.'], src);
    git(['commit', '-q', '-m', 'x'], src);
    git(['clone', '-q', '--local', src, join(p.project, 'clone')], p.home);
    const objects = join(src, '.git/objects');
    const files = readdirSync(objects, { recursive: true, encoding: 'utf8' }).map((f) => join(objects, f)).filter((f) => statSync(f).isFile());
    expect(files.filter((f) => statSync(f).nlink > 1).length, 'git clone --local linked no objects').toBeGreaterThan(n);
    return new Map(files.map((f) => [relative(objects, f), readFileSync(f)]));
  };
  /** Every object the clone shares with the source: made writable and overwritten, then the attack on one of them. */
  const rewriteObjects = `for f in $(find clone/.git/objects -type f -links +1); do chmod u+w "$f"; printf PWNED > "$f"; done; f=$(find clone/.git/objects -type f -links +1 | head -n 1); ${attack('"$f"')}`;
  const sourceUnchanged = (before: Map<string, Buffer>): void => {
    for (const [f, bytes] of before) expect(readFileSync(join(p.home, 'src/.git/objects', f)).equals(bytes), `the source repository's object ${f} changed`).toBe(true);
  };

  it('the objects `git clone --local` shares with a repository outside the project cannot be rewritten through the clone; a commit in the clone still works', () => {
    const before = localClone(3);
    giveTo(runner, p.home);
    const r = run(`${rewriteObjects}; cd clone && echo new > new.txt && git add new.txt && git -c user.name=t -c user.email=t@t commit -q -m y && echo committed`);
    sourceUnchanged(before);
    expect(r.status, r.stderr).toBe(0);
    expect(stdoutOf(r)).toContain('committed');
  });

  it(`a clone that shares more than ${String(MAX_LINKED_IN_TREE)} objects: its .git/objects is read-only whole, explain says why and the way out`, () => {
    const before = localClone(MAX_LINKED_IN_TREE + 2);
    giveTo(runner, p.home);
    const r = run(`${rewriteObjects}; echo done`);
    sourceUnchanged(before);
    expect(r.status, r.stderr).toBe(0);
    expect(stdoutOf(r)).toContain('done');
    const e = isolate(runner, ['explain', '--backend', backend, '--', 'true'], { cwd: p.project, env: { ...p.env, ...backendEnv } });
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toContain(join(p.project, 'clone/.git/objects'));
    expect(e.stdout).toContain('git clone --no-local');
  });

  it(`more than ${String(MAX_LINKED_FILES)} linked files outside any package tree: refused (exit 125) before the command runs`, () => {
    const store = linkedStore('lib', MAX_LINKED_FILES + 1);
    giveTo(runner, p.home);
    const r = run(`${attack('lib/f0.js')}`);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stdout + r.stderr).toContain('UV_LINK_MODE=copy');
    storeUnchanged(store, 1);
  });
});
