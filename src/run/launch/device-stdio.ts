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
import { DEVICE_NODES, NULL_NODE, deviceNumber, nodePath, type DeviceFacts, type DeviceNode } from '../../backends/devices.js';
import { IsolateError, errnoCode } from '../../errors.js';
import type { StdioSlot } from '../../process.js';

/** The device node descriptor `fd` of isolate's is, if it is one of the sandbox's devices. */
function deviceOf(fd: number): DeviceNode | undefined {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() ? DEVICE_NODES.find((node) => deviceNumber(node) === st.rdev) : undefined;
  } catch {
    return undefined; // not open: the launcher gets nothing there either
  }
}

function openCopy(dir: string, node: DeviceNode): number {
  try {
    return openSync(nodePath(dir, node), constants.O_RDWR | constants.O_NOCTTY | constants.O_NOFOLLOW);
  } catch (e: unknown) {
    throw new IsolateError('E_STDIO', `cannot open isolate's copy of /dev/${node.name} for the command's stdin, stdout or stderr; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: `give the command a pipe or a file there instead of /dev/${node.name}`,
      cause: e,
    });
  }
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
