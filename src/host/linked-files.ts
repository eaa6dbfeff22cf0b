/**
 * Host facts: the regular files in the writable roots that have other names
 * (hard links). A write through any name changes the one file, so the
 * command could change a file outside the paths it may write: pnpm links
 * every file of node_modules to its store in the home directory, uv a
 * virtual environment's files to its cache, bun to its cache, a local `git
 * clone` the objects of both repositories; a command that rewrote
 * node_modules/<pkg>/index.js in place would change the package in every
 * project that uses the store, run later outside any sandbox.
 *
 * The protected-name search finds them (scan-walk.ts: one lstat per file of
 * a directory it lists afresh; a directory whose cached listing it reuses
 * brings the names it had). This file decides what stays read-only for the
 * run: each such file, as a protected name does; or, when more than
 * MAX_LINKED_IN_TREE lie under one package tree (a pnpm, uv or bun project
 * has thousands), that tree whole; and refuses the run when more than
 * MAX_LINKED_FILES single files would be (each is a mount and a descriptor).
 * Pure.
 */
import { IsolateError } from '../errors.js';
import type { ProtectFact } from '../backends/types.js';

/** A regular file with other names, and the directories from its writable root down to its own (to pin, as a protected name's). */
export interface Linked {
  path: string;
  pins: readonly string[];
}

/** More linked files than this under one package tree keep the tree read-only whole. */
export const MAX_LINKED_IN_TREE = 64;
/** More single read-only linked files than this (outside any tree kept whole): the run is refused. */
export const MAX_LINKED_FILES = 500;

const WAYS_OUT = 'give the files names of their own: pnpm `package-import-method=copy`, `UV_LINK_MODE=copy`, `bun install --backend=copyfile` (then reinstall), `git clone --no-local`';

export const LINKED_WHY = 'has other names (a hard link): a write here would change the file by its other names too, which may lie outside the writable paths (a package store, a cache)';

const treeWhy = (count: number): string =>
  `read-only whole for the run: ${String(count)} files in it have other names (hard links to a package store or cache outside the writable paths), which a write here would change too; to make it writable, ${WAYS_OUT}`;

/** Whether the directory parts[0..k] is `parent/name`. */
const isAt = (parts: readonly string[], k: number, parent: string, name: string): boolean => parts[k] === name && parts[k - 1] === parent;

/**
 * The package tree `path` lies in, from the nearest ancestor: `node_modules/.pnpm`, else the nearest
 * `node_modules`, else a Python `site-packages`, else `.git/objects`; undefined in none.
 */
export function packageTree(path: string): string | undefined {
  const parts = path.split('/');
  const nearest = (is: (k: number) => boolean): string | undefined => {
    for (let k = parts.length - 2; k > 0; k--) if (is(k)) return parts.slice(0, k + 1).join('/');
    return undefined;
  };
  return (
    nearest((k) => isAt(parts, k, 'node_modules', '.pnpm')) ??
    nearest((k) => parts[k] === 'node_modules') ??
    nearest((k) => parts[k] === 'site-packages') ??
    nearest((k) => isAt(parts, k, '.git', 'objects'))
  );
}

/** The fact for each linked file, or for the package tree that holds more than MAX_LINKED_IN_TREE of them; refused beyond MAX_LINKED_FILES single files. */
export function linkedFacts(linked: readonly Linked[]): ProtectFact[] {
  const byTree = new Map<string, Linked[]>();
  for (const l of linked) {
    const tree = packageTree(l.path);
    // A tree is kept whole only below a writable root (one of the file's pins), never the root itself.
    if (tree === undefined || !l.pins.includes(tree)) continue;
    const files = byTree.get(tree) ?? [];
    files.push(l);
    byTree.set(tree, files);
  }
  const whole = new Set([...byTree].filter(([, files]) => files.length > MAX_LINKED_IN_TREE).map(([tree]) => tree));
  const within = (l: Linked): boolean => l.pins.some((p) => whole.has(p));
  const trees = [...whole].flatMap((tree): ProtectFact[] => {
    const files = byTree.get(tree) as Linked[];
    const pins = (files[0] as Linked).pins.filter((p) => tree.startsWith(`${p}/`));
    if (pins.some((p) => whole.has(p))) return []; // inside another tree kept whole
    return [{ path: tree, state: 'dir', pins: [...pins], why: treeWhy(files.length) }];
  });
  const singles = linked.filter((l) => !within(l));
  if (singles.length > MAX_LINKED_FILES) {
    throw new IsolateError('E_SANDBOX_SETUP', `${String(singles.length)} files in the paths this run may write have other names (hard links), more than the ${String(MAX_LINKED_FILES)} isolate keeps read-only one by one: a write through one would change the file by its other names too, which may lie outside the writable paths; the command was not run (the first: ${singles[0]?.path ?? ''})`, {
      fix: `${WAYS_OUT}; or make the directory that holds them read-only for the run (--allow-read <dir>)`,
    });
  }
  return [...trees, ...singles.map((l): ProtectFact => ({ path: l.path, state: 'file', pins: [...l.pins], why: LINKED_WHY }))];
}
