/**
 * The launcher's stdin, stdout and stderr in a run by root (Plan.devices).
 * A host device node the caller handed over (`< /dev/null`, `2> /dev/null`)
 * reaches the command as its descriptor, through which it could chmod or
 * re-time the host's node (/proc/self/fd/0): the sandbox's uid 0 owns it.
 * So does the /dev/null that stands for no input. The launcher gets
 * isolate's private copy of the same device instead (backends/devices.ts):
 * the command reads and writes the same device, and cannot change the host's.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import { DEVICE_NODES, NULL_NODE, deviceNumber, nodePath, type DeviceFacts, type DeviceNode } from '../../backends/devices.js';
import { IsolateError, errnoCode } from '../../errors.js';
import { isPrivateCopy } from '../device-nodes.js';
import type { StdioSlot } from '../../process.js';

const NAMES = ['stdin', 'stdout', 'stderr'] as const;

/**
 * The device node descriptor `fd` of isolate's is, if it is one of the sandbox's devices. Another
 * character device of root's that is not a terminal (`> /dev/kmsg`) has no copy: the command could
 * chmod the host's node through it, so it is refused. A terminal is the caller's own (docs/backends.md,
 * "Device nodes"); a device root does not own, the command cannot change.
 */
function deviceOf(fd: number): DeviceNode | undefined {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return undefined; // not open: the launcher gets nothing there either
  }
  if (!st.isCharacterDevice()) return undefined;
  const node = DEVICE_NODES.find((n) => deviceNumber(n) === st.rdev);
  if (node !== undefined || st.uid !== 0 || isatty(fd)) return node;
  const name = NAMES[fd] ?? `descriptor ${fd}`;
  throw new IsolateError('E_STDIO', `${name} is a device of the host's that is not a terminal, which the command, run by root, could chmod through it; the command was not run`, {
    fix: fd === 0 ? 'give the command a pipe instead: cat <device> | isolate run -- cmd' : `give the command a pipe instead: isolate run -- cmd ${fd === 2 ? '2>&1 ' : ''}| cat > <device>`,
  });
}

/** isolate's copy of `node`, opened for reading and writing, and checked to be that copy (not a node a swapped path leads to). */
function openCopy(dir: string, node: DeviceNode): number {
  let fd: number;
  try {
    fd = openSync(nodePath(dir, node), constants.O_RDWR | constants.O_NOCTTY | constants.O_NOFOLLOW);
  } catch (e: unknown) {
    throw new IsolateError('E_STDIO', `cannot open isolate's copy of /dev/${node.name} for the command's stdin, stdout or stderr; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: `give the command a pipe or a file there instead of /dev/${node.name}`,
      cause: e,
    });
  }
  if (isPrivateCopy(fstatSync(fd), node)) return fd;
  closeSync(fd);
  throw new IsolateError('E_STDIO', `isolate's copy of /dev/${node.name} in ${dir} changed after it was checked; the command was not run`, {
    fix: `run again; if it keeps happening, something can write ${dir}: keep the state directory of runs by root out of every path a sandbox can write`,
  });
}

/** `stdio` with each device node on 0 to 2 replaced by isolate's copy; close() closes the copies once the launcher has its own. */
export function privateStdio(stdio: readonly StdioSlot[], devices: DeviceFacts | undefined): { stdio: StdioSlot[]; close: () => void } {
  const out = [...stdio];
  const opened: number[] = [];
  if (devices === undefined) return { stdio: out, close: () => undefined };
  try {
    for (const fd of [0, 1, 2]) {
      const slot = out[fd];
      const node = slot === 'ignore' ? NULL_NODE : slot === 'inherit' ? deviceOf(fd) : undefined;
      if (node === undefined) continue;
      const copy = openCopy(devices.dir, node);
      opened.push(copy);
      out[fd] = copy;
    }
  } catch (e: unknown) {
    for (const fd of opened) closeSync(fd);
    throw e;
  }
  return { stdio: out, close: () => opened.forEach((fd) => closeSync(fd)) };
}
