/**
 * Plan.devices: isolate's private copies of the device nodes
 * (backends/devices.ts), which the sandbox's /dev shows in a run by root.
 * Checked before every such run (a character device of the right number,
 * owned by nobody, mode 0666, in a directory of root's that no one else can
 * write, nor any directory on the way to it: root-path.ts) and made again
 * where missing or wrong, by the mknod program, under a temporary name
 * linked into place (renamed over a wrong one): a concurrent run sees the
 * old node or the new one, never a half-made one, and a right one that a
 * concurrent run put there first stays. A filesystem mounted nodev makes a
 * device unopenable, and that flag cannot be lifted inside the sandbox: then
 * the run is refused (exit 125) with the way out.
 */
import { closeSync, constants, existsSync, lchownSync, linkSync, lstatSync, openSync, renameSync, rmSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { DEVICE_MODE, DEVICE_NODES, DEVICE_OWNER, NULL_NODE, deviceNumber, nodePath, type DeviceFacts, type DeviceNode } from '../backends/devices.js';
import { IsolateError, errnoCode, isIsolateError } from '../errors.js';
import { runHelper } from './io/helper.js';
import { rootOnlyPath } from './root-path.js';
import { makeOwnDir } from '../own-dir.js';

const MKNOD_TIMEOUT_MS = 5000;

function setupError(summary: string, fix: string, e?: unknown): IsolateError {
  return new IsolateError('E_SANDBOX_SETUP', `${summary}; the command was not run`, { fix, ...(e === undefined ? {} : { detail: e instanceof Error ? e.message : String(e), cause: e }) });
}

/** The directory exists, is a directory (not a link), root's, and writable by no one else, nor any directory on the way to it (root-path.ts). */
function ensureDir(dir: string): void {
  checkRootOnly(dir, existingAncestor(dir));
  try {
    makeOwnDir(dir);
  } catch (e: unknown) {
    throw setupError(`cannot create the directory of isolate's device nodes ${dir}`, 'check that isolate\'s state directory is writable', e);
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw setupError(`${dir} is not a directory of root's that only root can write`, `remove ${dir}: isolate makes it again, private`);
  }
  checkRootOnly(dir, dir);
}

/** The deepest of `dir` and the directories above it that exists (followed): where mkdir would start. */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** Throw when someone else than root could change what `path` (the directory of the nodes `dir`, or one above it) leads to. */
function checkRootOnly(dir: string, path: string): void {
  const open = rootOnlyPath(path);
  if (open === undefined) return;
  throw setupError(
    `isolate's device nodes in ${dir} could be swapped by another user before the sandbox mounts them: ${open}`,
    'set XDG_STATE_HOME (or HOME) to a directory that only root can change, for example /var/lib/isolate',
  );
}

/** What stat says of the node's copy is exactly what the sandbox must get. */
export function isPrivateCopy(st: Stats, node: DeviceNode): boolean {
  return st.isCharacterDevice() && st.rdev === deviceNumber(node) && st.uid === DEVICE_OWNER && st.gid === DEVICE_OWNER && (st.mode & 0o7777) === DEVICE_MODE;
}

/** The node's copy at `path` (not followed) is exactly what the sandbox must get. */
function isPrivateNode(path: string, node: DeviceNode): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && isPrivateCopy(st, node);
}

async function makeNode(dir: string, node: DeviceNode, mknod: string | undefined): Promise<void> {
  if (mknod === undefined) throw setupError(`isolate must make its copy of /dev/${node.name} in ${dir}, and mknod is not installed`, 'install coreutils (it has mknod)');
  const temp = `${dir}/.${node.name}-${randomBytes(6).toString('hex')}`;
  const made = await runHelper(mknod, ['-m', DEVICE_MODE.toString(8), temp, 'c', String(node.major), String(node.minor)], { env: {}, timeoutMs: MKNOD_TIMEOUT_MS, maxStdout: 4096 });
  try {
    if (made.exitCode !== 0) throw setupError(`cannot make isolate's copy of /dev/${node.name} in ${dir}: ${made.stderr.trim() || made.spawnError?.message || 'mknod failed'}`, 'run isolate as root on a host that allows mknod');
    lchownSync(temp, DEVICE_OWNER, DEVICE_OWNER);
    putInPlace(temp, node, nodePath(dir, node));
  } catch (e: unknown) {
    throw isIsolateError(e) ? e : setupError(`cannot put isolate's copy of /dev/${node.name} in place in ${dir}`, `remove ${dir}: isolate makes it again`, e);
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * The new node at `path`, unless a concurrent run put a right one there meanwhile: that one stays, since a run
 * may have opened it already (device-fds.ts), and a mount of a node renamed over finds it deleted. A wrong one is
 * replaced.
 */
function putInPlace(temp: string, node: DeviceNode, path: string): void {
  try {
    linkSync(temp, path);
  } catch (e: unknown) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    if (!isPrivateNode(path, node)) renameSync(temp, path);
  }
}

/** A device in the directory can be opened: its filesystem is not mounted nodev. */
function checkOpenable(dir: string): void {
  const path = nodePath(dir, NULL_NODE);
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW));
  } catch (e: unknown) {
    throw setupError(
      `isolate's device nodes in ${dir} cannot be opened (${errnoCode(e) ?? String(e)}): that filesystem is mounted nodev, so the sandbox's /dev would not work`,
      'set XDG_STATE_HOME to a directory on a filesystem that allows device files (for example /var/lib/isolate), or remount that filesystem without nodev',
      e,
    );
  }
}

/** Make sure every private node is in place and usable before a run by root; throws (exit 125) when one cannot be. */
export async function ensureDeviceNodes(devices: DeviceFacts): Promise<void> {
  ensureDir(devices.dir);
  for (const node of DEVICE_NODES) {
    const path = nodePath(devices.dir, node);
    if (isPrivateNode(path, node)) continue;
    await makeNode(devices.dir, node, devices.mknod);
    if (!isPrivateNode(path, node)) throw setupError(`isolate's copy of /dev/${node.name} in ${devices.dir} is not what it made`, `remove ${devices.dir}: isolate makes it again`);
  }
  checkOpenable(devices.dir);
}
