/**
 * Host facts: the git repositories in the read-only part of the project, so
 * that their configuration is shown without its secrets (git-scrub.ts) as
 * that of a repository in a writable path is. `strict` shows the working
 * directory read-only, and a CI checkout there holds the job's token in
 * `.git/config` (actions/checkout's extraheader, GitLab's
 * `gitlab-ci-token:<token>@` remote), in each submodule's config, and in
 * every other repository the job checked out into its workspace. The
 * protected-name search walks only the writable paths; this walks what the
 * sandbox sees read-only at and below the working directory (the working
 * directory itself when it is read-only, and each read-only path inside it),
 * and reports each `.git` as that search does: a directory by its `config`,
 * a `.git` file (a submodule or a linked worktree) by itself; and each bare
 * repository (`git clone --mirror https://<token>@...` keeps the token in
 * its `config`, with no `.git` around it) by its `config`. Above the
 * working directory, only the `.git` of each directory on the way is looked
 * at: a job that runs in a subdirectory of its checkout under `dev` (the
 * home read-only) has the checkout's token above it. The rest of a
 * read-only system (/usr, /etc) is not searched; a readable home directory
 * (`dev`) is, within bounds (git-home.ts).
 *
 * A directory's listing is kept between runs by the rules of the
 * protected-name search (scan-cache.ts): an unchanged tree costs one lstat
 * per directory, and a `.git` made since the last run changes its
 * directory's stamp, so that directory is listed again.
 */
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import type { ProtectFact } from '../backends/types.js';
import type { MountRule } from '../profile/types.js';
import { effectiveKind, isWithin } from '../profile/mount-rules.js';
import { clockTrusted, settled, type Hit, type ScanClock } from './scan-cache.js';
import type { ScanTree } from './scan-tree.js';
import { TreeBuilder } from './scan-tree-builder.js';
import { cacheableFs, readScanCache, scanClock, writeScanCache } from './scan-cache-file.js';
import { MAX_SCAN_DEPTH, MAX_SCAN_PATH_BYTES } from './scan-walk.js';
import { unnamableEntries, escapedName } from './unnamable-dirs.js';

/**
 * The cache's key in place of protected names (no name holds a NUL byte). It names what a listing's hits are
 * (`.git`, and a bare repository's `config`): a cache kept when only `.git` was looked for would hide a bare repository.
 */
const CACHE_KEY = '\0git-read-only\0bare';

const GIT = '.git';
const CONFIG = 'config';

export interface ReadOnlyGitOptions {
  /** Where the search keeps what it saw between runs (scan-cache-file.ts); undefined: nothing is kept. */
  cacheDir?: string | undefined;
  /** @internal The clock, for tests. */
  clock?: () => ScanClock | undefined;
}

/**
 * The bounds of a walk over more than the project (git-home.ts): how many
 * levels below a start are listed, which directory names are not entered,
 * and a repository found ends the walk down that way (its own tree is its
 * project, not walked; the start itself is). The project's own walk has none: any depth, every
 * directory, repositories inside repositories.
 */
export interface WalkBounds {
  maxDepth: number;
  /** Names not entered; a name that is not UTF-8 reaches it as decoded (with U+FFFD), and is never refused for. */
  skip: (name: string) => boolean;
}

interface Walk {
  /** Paths with a rule of their own: searched here only while read-only (a writable one is the protected-name search's). */
  rules: readonly MountRule[];
  rulePaths: ReadonlySet<string>;
  /** Not walked into from above: where a walk starts (walked from there), and what another search covers. */
  roots: ReadonlySet<string>;
  bounds: WalkBounds | undefined;
  startMs: number | undefined;
  fsTypes: Map<number, number | undefined>;
  depth: number;
  old: ScanTree | undefined;
  out: TreeBuilder;
  found: ProtectFact[];
}

/** `/a/b/c` -> `/a/b`, `/a`, `/`. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    out.push(dir);
    if (dir === '/') return out;
  }
}

/** Where the walk starts: the working directory when it is read-only, and each read-only path inside it. */
function starts(rules: readonly MountRule[], cwd: string): string[] {
  const candidates = [cwd, ...rules.filter((r) => r.kind === 'read' && isWithin(r.path, cwd)).map((r) => r.path)];
  return [...new Set(candidates)].filter((path) => effectiveKind(rules, path) === 'read');
}

/**
 * The `.git` of each repository above the working directory that the sandbox sees read-only: the checkout whose
 * configuration the command's own git reads when it runs in a subdirectory of it (`dev` shows the home read-only
 * and the working directory writable). Only the `.git` itself: the tree around the working directory is not walked.
 */
function enclosing(rules: readonly MountRule[], cwd: string): ProtectFact[] {
  return ancestors(cwd).flatMap((dir) => {
    const fact = gitFact(dir);
    return fact !== undefined && effectiveKind(rules, fact.path) === 'read' ? [fact] : [];
  });
}

function refuse(dir: string, why: string, cause?: unknown): never {
  throw new IsolateError('E_IO', `cannot search ${dir} for the git repositories the sandbox sees (their configuration may hold a token): ${why}`, {
    cause,
    fix: `hide the directory (--deny ${dir}), or move it out of the working directory`,
  });
}

/**
 * A directory's entries: none when it is gone; undefined when it may not be listed (the sandbox may still enter it).
 * A bounded walk (`bounded`) takes any other failure so too (macOS keeps `~/Documents` from a process without Full
 * Disk Access, EPERM; a stale NFS handle): the walk of a home is a search within bounds, and a directory it cannot
 * list must not stop every run; the project's own walk refuses instead.
 */
function entries(dir: string, bounded: boolean): Dirent[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    if (code === 'EACCES' || bounded) return undefined;
    return refuse(dir, code ?? String(e), e);
  }
}

function dirStat(path: string): Stats | undefined {
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st?.isDirectory() === true ? st : undefined;
  } catch {
    return undefined; // not there for the sandbox either
  }
}

/** A `.git` entry as the protected-name search reports it: a directory by its `config`, a `.git` file by itself. */
function gitFact(dir: string): ProtectFact | undefined {
  const path = join(dir, GIT);
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // a link that leads nowhere git could read either
  }
  if (st?.isDirectory() === true) return { path: join(path, 'config'), state: 'file', pins: [] };
  return st?.isFile() === true ? { path, state: 'file', pins: [] } : undefined;
}

/** What a bare repository's directory holds (`git clone --bare`, `--mirror`), as git tells a git directory (setup.c, is_git_directory). */
const BARE_NAMES: readonly string[] = ['HEAD', CONFIG, 'objects', 'refs'];

/** The hit of a listing: its `.git`, or a bare repository's `config` (it has no `.git`: it is one). */
function gitHits(listed: readonly Dirent[]): Hit[] {
  if (listed.some((e) => e.name === GIT)) return [{ name: GIT, kind: 'other' }];
  return BARE_NAMES.every((name) => listed.some((e) => e.name === name)) ? [{ name: CONFIG, kind: 'other' }] : [];
}

/** A bare repository in `dir`, by its `config` while that is a regular file. */
function bareFact(dir: string): ProtectFact | undefined {
  const path = join(dir, CONFIG);
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() === true ? { path, state: 'file', pins: [] } : undefined;
  } catch {
    return undefined; // a link that leads nowhere git could read either
  }
}

/**
 * A repository in a directory the bounded walk does not enter for its name (a hidden one: `~/.dotfiles`, a bare
 * `~/.cfg`, `~/src/org/.github`): its own `.git`, or the directory itself as a bare repository, looked up by name
 * every run (a few stats; nothing below it is listed).
 */
function ownRepoFact(dir: string): ProtectFact | undefined {
  const has = (name: string): boolean => {
    try {
      return lstatSync(join(dir, name), { throwIfNoEntry: false }) !== undefined;
    } catch {
      return false; // not for git to open either
    }
  };
  return gitFact(dir) ?? (BARE_NAMES.every(has) ? bareFact(dir) : undefined);
}

/** The repository of a directory not entered for its name, while the sandbox sees it read-only. */
function skippedRepoFact(w: Walk, path: string, name: string): ProtectFact | undefined {
  if (w.bounds?.skip(name) !== true || w.roots.has(path)) return undefined;
  const fact = ownRepoFact(path);
  return fact !== undefined && effectiveKind(w.rules, fact.path) === 'read' ? fact : undefined;
}

/** Reported afresh every run from a listing (cached or not): whether it is a directory or a file is looked at now. */
function report(w: Walk, dir: string, hits: readonly Hit[]): void {
  if (hits.length === 0) return;
  const fact = hits.some((h) => h.name === GIT) ? gitFact(dir) : bareFact(dir);
  if (fact !== undefined) w.found.push(fact);
}

/** A directory: its `.git` from its cached listing while its stamp stands, else from a fresh listing; then its subdirectories. */
function visit(w: Walk, path: string, name: string, st: Stats, old: number): void {
  const mayReuse = w.startMs !== undefined && cacheableFs(w.fsTypes, st.dev, path);
  if (mayReuse && old >= 0 && w.old?.reusableFor(old, st) === true) {
    const tree = w.old;
    report(w, path, tree.hits(old));
    const record = w.out.openCopy(old);
    for (let j = old + 1; j < tree.end(old); j = tree.end(j)) if (!child(w, path, tree.name(j), j)) w.out.unflag(record);
    return w.out.close(record);
  }
  const listed = entries(path, w.bounds !== undefined);
  if (listed === undefined) {
    // Not listable, but one that may be entered lets a command open `.git/config` by name: looked up so, every run.
    const fact = gitFact(path);
    if (fact !== undefined) w.found.push(fact);
    return w.out.close(w.out.open(name, st, false, []));
  }
  // A bounded walk leaves such a directory out (WalkBounds.skip); the project's own walk cannot.
  const unnamable = w.bounds === undefined ? unnamableEntries(path, listed.map((e) => e.name)).find((u) => u.st.isDirectory()) : undefined;
  if (unnamable !== undefined) refuse(`${path === '/' ? '' : path}/${escapedName(unnamable.name)}`, 'its name is not UTF-8');
  const hits = gitHits(listed);
  report(w, path, hits);
  const record = w.out.open(name, st, mayReuse && w.startMs !== undefined && settled(st, w.startMs), hits);
  // A repository below a bounded walk's start is a project of its own, not walked (a home that is a repository of dotfiles is).
  if (w.bounds !== undefined && hits.length > 0 && w.depth > 0) return w.out.close(record);
  const before = old >= 0 ? w.old?.children(old) : undefined;
  for (const e of listed) {
    if (e.isDirectory() && e.name !== GIT && !child(w, path, e.name, before?.get(e.name) ?? -1)) w.out.unflag(record);
  }
  w.out.close(record);
}

/** Past a bounded walk's depth, or a name it does not enter. */
const outOfBounds = (w: Walk, name: string): boolean => w.bounds !== undefined && (w.depth >= w.bounds.maxDepth || w.bounds.skip(name));

/** A subdirectory: searched unless it is a start of its own or a rule makes it other than read-only. False: it got no record (gone). */
function child(w: Walk, parent: string, name: string, old: number): boolean {
  const path = parent === '/' ? `/${name}` : `${parent}/${name}`;
  const st = dirStat(path);
  if (st === undefined) return false; // gone or replaced since the listing (the parent's stamp changed too)
  if (w.roots.has(path) || (w.rulePaths.has(path) && effectiveKind(w.rules, path) !== 'read') || outOfBounds(w, name)) {
    const fact = skippedRepoFact(w, path, name);
    if (fact !== undefined) w.found.push(fact);
    w.out.close(w.out.open(name, st, false, []));
    return true;
  }
  if (w.depth >= MAX_SCAN_DEPTH || Buffer.byteLength(path) > MAX_SCAN_PATH_BYTES) refuse(path, 'it lies too deep to search');
  w.depth++;
  try {
    visit(w, path, name, st, old);
  } finally {
    w.depth--;
  }
  return true;
}

/** What one walk is: where it starts, what it leaves to others, its bounds, and its key in the listing cache. */
export interface GitWalk {
  starts: readonly string[];
  /** Not walked into: directories another search covers. */
  excluded: readonly string[];
  bounds: WalkBounds | undefined;
  cacheKey: string;
}

function search(rules: readonly MountRule[], walk: GitWalk, cacheDir: string | undefined, start: ScanClock | undefined): ProtectFact[] {
  const roots = new Set([...walk.starts, ...walk.excluded]);
  const w: Walk = { rules, rulePaths: new Set(rules.map((r) => r.path)), roots, bounds: walk.bounds, startMs: start?.wallMs, fsTypes: new Map(), depth: 0, old: undefined, out: new TreeBuilder(undefined), found: [] };
  const key = [walk.cacheKey];
  for (const root of walk.starts) {
    const st = dirStat(root);
    if (st === undefined) continue;
    w.old = cacheDir === undefined || start === undefined ? undefined : readScanCache(cacheDir, root, key, start);
    w.out = new TreeBuilder(w.old);
    visit(w, root, '', st, w.old === undefined ? -1 : 0);
    const { tree, changed } = w.out.finish();
    if (changed && cacheDir !== undefined && start !== undefined) writeScanCache(cacheDir, { root, names: key, clock: start }, tree);
  }
  return w.found;
}

/** Each `.git` a walk finds, with the listing cache while the clock can be trusted (it went back during the walk: again without it). */
export function walkForGit(rules: readonly MountRule[], walk: GitWalk, options: ReadOnlyGitOptions): ProtectFact[] {
  const clock = options.clock ?? scanClock;
  const start = options.cacheDir === undefined ? undefined : clock();
  const found = search(rules, walk, options.cacheDir, start);
  if (start === undefined) return found;
  const end = clock();
  return end !== undefined && clockTrusted(start, end) ? found : search(rules, walk, undefined, undefined);
}

/** Each `.git` the sandbox sees read-only at or below the working directory `cwd`, and the repositories' above it. */
export function readOnlyGitEntries(rules: readonly MountRule[], cwd: string, options: ReadOnlyGitOptions = {}): ProtectFact[] {
  const walk: GitWalk = { starts: starts(rules, cwd), excluded: [], bounds: undefined, cacheKey: CACHE_KEY };
  return [...enclosing(rules, cwd), ...walkForGit(rules, walk, options)];
}
