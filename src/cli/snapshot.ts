/**
 * Build step: isolate's V8 start-up snapshot, for the Node that runs this
 * file (`npm run build`; `postinstall` in an installed package). A snapshot
 * holds the whole CLI loaded and initialised, so a run starts without
 * reading, compiling and initialising isolate's code (docs/performance.md).
 *
 * A snapshot works only with the exact Node binary that built it (another
 * one refuses it, or crashes on it), and holds the code of one build of
 * isolate. bin/isolate.js therefore uses it only when its key still holds,
 * and otherwise runs the plain bundle. In dist/snapshot/:
 *
 * - isolate.cjs: the CLI as one CommonJS file (esbuild: a snapshot's entry
 *   can load nothing but Node's built-in modules); isolate.cjs.sha256 its hash.
 * - isolate.blob: the snapshot, built from isolate.cjs.
 * - isolate.key: four lines, which bin/isolate.js compares: the format
 *   (KEY_FORMAT), the real path of the Node that built it, that Node's
 *   version, and the sha256 of the isolate.cjs it was built from.
 *
 * Each file is written under a temporary name and renamed into place; the
 * key goes last and is removed first, so a key never names another blob, and
 * only after the blob has started this very Node and printed isolate's
 * version (a blob Node would refuse, or crash on, gets no key).
 */
// A build step, not part of a run (DESIGN.md's one place of execution is for runs): it starts Node to build the snapshot and to try it.
// eslint-disable-next-line no-restricted-imports
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../profile/builtin.js';

/** The first line of isolate.key; bin/isolate.js uses only a key with exactly this line. */
export const KEY_FORMAT = 'isolate-snapshot 1';

export interface SnapshotFiles {
  bundle: string;
  hash: string;
  blob: string;
  key: string;
}

export function snapshotFiles(dir: string): SnapshotFiles {
  return { bundle: `${dir}/isolate.cjs`, hash: `${dir}/isolate.cjs.sha256`, blob: `${dir}/isolate.blob`, key: `${dir}/isolate.key` };
}

/** The key of a snapshot built by the Node at `node` (its real path) of `version` from a bundle with `sha256`. */
export function snapshotKey(node: string, version: string, sha256: string): string {
  return `${KEY_FORMAT}\n${node}\n${version}\n${sha256}\n`;
}

function writeAtomically(file: string, data: string): void {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, data, { mode: 0o644 });
  renameSync(temp, file);
}

/** The blob starts this Node and runs `isolate --version` from the package in `root`: undefined, or what went wrong. */
function tryBlob(blob: string, root: string): string | undefined {
  const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };
  const r = spawnSync(process.execPath, ['--snapshot-blob', blob, root, '--version'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0 && r.stdout === `${version}\n`) return undefined;
  return `the snapshot does not start (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${`${r.stdout}${r.stderr}`.trim().slice(0, 500)}`;
}

/**
 * `node --build-snapshot` of `bundle` into `blob`. Node keeps the entry's file name and its own arguments in the
 * snapshot: the entry is read from descriptor 3 (/dev/fd/3) and the blob written by its name in its directory, so
 * that no path of the machine that builds it is kept. Its environment is empty: nothing of the caller's either.
 */
function buildBlob(bundle: string, blob: string): SpawnSyncReturns<string> {
  const fd = openSync(bundle, 'r');
  try {
    return spawnSync(process.execPath, ['--snapshot-blob', basename(blob), '--build-snapshot', '/dev/fd/3'], {
      cwd: dirname(blob),
      env: {},
      stdio: ['ignore', 'ignore', 'pipe', fd],
      encoding: 'utf8',
    });
  } finally {
    closeSync(fd);
  }
}

/** Build the snapshot of the package in `root` (in its dist/snapshot/) with this Node; returns why it could not be built, or undefined. */
export function buildSnapshot(root: string): string | undefined {
  const files = snapshotFiles(`${root}/dist/snapshot`);
  rmSync(files.key, { force: true });
  const sha256 = createHash('sha256').update(readFileSync(files.bundle)).digest('hex');
  writeAtomically(files.hash, `${sha256}\n`);
  const temp = `${files.blob}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const r = buildBlob(files.bundle, temp);
  const failed = r.status === 0 ? tryBlob(temp, root) : `node --build-snapshot failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${r.stderr.trim()}`;
  if (failed !== undefined) {
    rmSync(temp, { force: true });
    return failed;
  }
  renameSync(temp, files.blob);
  writeAtomically(files.key, snapshotKey(realpathSync(process.execPath), process.version, sha256));
  return undefined;
}

/** `--best-effort` (postinstall): a snapshot that cannot be built is a note, not a failure; isolate runs without it. */
function main(argv: string[]): void {
  const root = fileURLToPath(packageRoot()).replace(/\/$/, '');
  let why: string | undefined;
  try {
    why = buildSnapshot(root);
  } catch (e: unknown) {
    why = e instanceof Error ? e.message : String(e);
  }
  if (why === undefined) return;
  process.stderr.write(`isolate: no start-up snapshot for node ${process.version}; isolate starts without it. ${why}\n`);
  if (!argv.includes('--best-effort')) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
