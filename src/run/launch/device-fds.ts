/**
 * Plan.deviceFd: isolate's copies of the device nodes (run/device-nodes.ts
 * made and checked them), opened just before the launcher starts and
 * handed to it on descriptors, which it binds (/proc/self/fd/N). bubblewrap
 * looking the copies up by path instead would mount whatever the path
 * leads to at that moment: another run by root whose profile can write
 * this state directory could swap a copy for a link to the host's /dev/null
 * (which the sandbox's uid 0 owns, and could chmod) or to a disk between the
 * check and the mount. Each descriptor is checked after opening (a final link
 * is not followed): the device it names is the one checked, whatever the
 * path leads to later.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import type { Plan } from '../../backends/types.js';
import { DEVICE_NODES, nodePath, type DeviceNode } from '../../backends/devices.js';
import { IsolateError, errnoCode } from '../../errors.js';
import { isPrivateCopy } from '../device-nodes.js';
import { O_PATH } from '../fd-paths.js';

function swapped(dir: string, node: DeviceNode, e?: unknown): IsolateError {
  return new IsolateError('E_SANDBOX_SETUP', `isolate's copy of /dev/${node.name} in ${dir} changed after it was checked; the command was not run`, {
    fix: `run again; if it keeps happening, something can write ${dir}: keep the state directory of runs by root (XDG_STATE_HOME) out of every path a sandbox can write`,
    ...(e === undefined ? {} : { detail: errnoCode(e) ?? String(e), cause: e }),
  });
}

/** An O_PATH descriptor of the node's copy, which names that very device: a copy of the right number, owner and mode. */
function openChecked(dir: string, node: DeviceNode): number {
  let fd: number;
  try {
    fd = openSync(nodePath(dir, node), O_PATH | constants.O_NOFOLLOW);
  } catch (e: unknown) {
    throw swapped(dir, node, e);
  }
  if (isPrivateCopy(fstatSync(fd), node)) return fd;
  closeSync(fd);
  throw swapped(dir, node);
}

/** Add the opened copies to `fds` (launcher descriptor -> isolate's) at Plan.deviceFd and on; nothing without one. */
export function openDeviceFds(plan: Pick<Plan, 'devices' | 'deviceFd'>, fds: Map<number, number>): void {
  const { devices, deviceFd } = plan;
  if (devices === undefined || deviceFd === undefined) return;
  DEVICE_NODES.forEach((node, i) => fds.set(deviceFd + i, openChecked(devices.dir, node)));
}
