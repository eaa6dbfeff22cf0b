/**
 * Plan.bundle: the OCI runtime bundle of one `--backend oci` run, written
 * before the start into a directory that must not exist yet (mode 0700, in
 * isolate's runtime directory, which no sandbox sees), and removed after the
 * run however it ends. A container the runtime still knows there (it was
 * killed: the timeout's SIGKILL) is deleted first with `runtime --root
 * <state> delete --force <name>`, which also removes the cgroups the runtime
 * made for it. The bundles that runs killed with their isolate left behind
 * (host/oci-bundle-dir.ts) are removed the same way before each run.
 */
import { chmodSync, closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BundlePlan } from '../backends/types.js';
import { IsolateError, errnoCode, isIsolateError } from '../errors.js';
import { staleBundleDirs } from '../host/oci-bundle-dir.js';
import { ensurePrivateDir } from '../host/runtime-dir.js';
import { probeSync } from '../process.js';
import { sweepRuntimeCgroups } from './bundle-cgroups.js';
import { removeTree } from './remove-tree.js';
import type { ExecuteResult } from './result.js';
import { listedNow, readyStandIn } from './launch/stand-ins.js';

/** The runtime's state directory of a bundle directory (oci.ts puts it there). */
const STATE = 'state';

function setupError(summary: string, e: unknown): IsolateError {
  if (isIsolateError(e)) return e;
  return new IsolateError('E_SANDBOX_SETUP', summary, {
    detail: errnoCode(e) ?? String(e),
    cause: e,
    fix: 'check that isolate\'s runtime directory is writable (XDG_RUNTIME_DIR, else ~/.local/state/isolate/run), then run again',
  });
}

/** Delete the container the runtime still has in `stateDir` (its processes are killed, its cgroups removed); nothing when there is none. */
function deleteContainer(runtime: string, stateDir: string, name: string): void {
  if (!existsSync(join(stateDir, name))) return;
  probeSync(runtime, ['--root', stateDir, 'delete', '--force', name], 10_000);
}

/** Remove the bundles of killed runs in the runtime directory. */
function sweepStale(runtime: string, base: string): void {
  for (const dir of staleBundleDirs(base)) {
    deleteContainer(runtime, join(dir, STATE), basename(dir));
    removeTree(dir, { quiet: true });
  }
  sweepRuntimeCgroups();
}

function writeNew(path: string, content: string, mode = 0o600): void {
  const fd = openSync(path, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW, mode);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** config.json as written, and the sealed entries it binds from their stand-ins. */
export interface ConfigNow {
  text: string;
  standIns: Set<string>;
}

/**
 * config.json with each sealed entry that is not what was listed now (a link, gone, another type:
 * BundlePlan.sealEntries) bound from its empty stand-in in `standInsDir` (launch/stand-ins.ts) rather than from its
 * path, which the runtime would follow; the text as planned when every entry is as listed.
 */
export function configNow(config: string, sealEntries: BundlePlan['sealEntries'], standInsDir: string | undefined): ConfigNow {
  const changed = new Map(sealEntries.filter((e) => !listedNow(e.path, e.type)).map((e) => [e.path, e.type]));
  if (changed.size === 0) return { text: config, standIns: new Set() };
  if (standInsDir === undefined) throw new IsolateError('E_INTERNAL', 'internal error: sealed entries changed since they were listed, and the plan names no place for their stand-ins');
  const parsed = JSON.parse(config) as { mounts: { source: string; destination: string }[] };
  parsed.mounts = parsed.mounts.map((m) => {
    const type = m.source === m.destination ? changed.get(m.source) : undefined;
    return type === undefined ? m : { ...m, source: readyStandIn(standInsDir, type) };
  });
  return { text: `${JSON.stringify(parsed, null, 2)}\n`, standIns: new Set(changed.keys()) };
}

/**
 * Create the bundle: the directory (0700, new), config.json (0600), the rootfs directories and symlinks. Returns
 * the sealed entries config.json binds from their stand-ins (configNow).
 */
export function createBundle(b: BundlePlan, standInsDir?: string): Set<string> {
  try {
    mkdirSync(b.dir, { mode: 0o700 });
  } catch (e: unknown) {
    throw setupError(`cannot create the bundle directory ${b.dir}; the command was not run`, e);
  }
  try {
    chmodSync(b.dir, 0o700);
    const config = configNow(b.config, b.sealEntries, standInsDir);
    writeNew(join(b.dir, b.configFile), config.text);
    for (const d of b.dirs) mkdirSync(join(b.dir, d), { mode: 0o755 });
    for (const l of b.links) symlinkSync(l.target, join(b.dir, l.path));
    // Git configuration without its secrets, which config.json binds read-only over the file (readable by the sandbox's user).
    for (const f of b.files ?? []) writeNew(join(b.dir, f.path), f.data, 0o444);
    return config.standIns;
  } catch (e: unknown) {
    removeTree(b.dir, { quiet: true });
    throw setupError(`cannot write the bundle in ${b.dir}; the command was not run`, e);
  }
}

/** Remove the bundle and the runtime's state, deleting a container the runtime still knows; what stays is returned. */
export function removeBundle(b: BundlePlan): string | undefined {
  deleteContainer(b.runtime, b.stateDir, b.name);
  // Nothing of the sandbox can write here: the directory is out of its view, its rootfs read-only.
  return removeTree(b.dir, { sandboxMayWrite: () => false });
}

/**
 * Run `run` between writing the plan's bundle and removing it, with the sealed entries the bundle binds from their
 * stand-ins (in `standInsDir`, Plan.standIns); what could not be removed is said in leftBehind.
 */
export async function withBundle(bundle: BundlePlan | undefined, standInsDir: string | undefined, run: (standIns: ReadonlySet<string>) => Promise<ExecuteResult>): Promise<ExecuteResult> {
  if (bundle === undefined) return run(new Set());
  sweepStale(bundle.runtime, ensurePrivateDir(dirname(bundle.dir)));
  const standIns = createBundle(bundle, standInsDir);
  let left: string | undefined;
  let result: ExecuteResult;
  try {
    result = await run(standIns);
  } finally {
    left = removeBundle(bundle);
  }
  return left === undefined ? result : { ...result, leftBehind: { path: bundle.dir, reason: left } };
}
