/**
 * The device nodes of the sandbox's /dev, and isolate's private copies of
 * them for a run by root. Pure: the table and the rules; run/device-nodes.ts
 * makes and checks the copies.
 *
 * bwrap's --dev binds the host's own nodes (/dev/null, /dev/zero, ...). When
 * isolate runs as root, the sandbox's user is the host's uid 0, which owns
 * them: with no capability at all it could chmod, re-time or set an ACL on
 * the host's /dev/null. A read-only bind would refuse that, but bwrap makes
 * every read-only bind nodev, which makes a device unopenable. So a run by
 * root binds copies of the nodes instead (the same devices), made by isolate
 * in a directory of its own and owned by DEVICE_OWNER: the sandbox's uid 0,
 * without CAP_FOWNER, cannot change an inode it does not own.
 */

/** A character device of the sandbox's /dev. */
export interface DeviceNode {
  name: string;
  major: number;
  minor: number;
}

/** /dev/null, which also stands for no input on a launcher's stdin. */
export const NULL_NODE: DeviceNode = { name: 'null', major: 1, minor: 3 };

/** What bwrap's --dev binds from the host (and nsjail's /dev repeats): the one list. */
export const DEVICE_NODES: readonly DeviceNode[] = [
  NULL_NODE,
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
];

/** The owner (uid and gid) of the private copies: nobody, which no sandbox's user is. */
export const DEVICE_OWNER = 65534;
/** Their mode: as the host's, read and write for everyone. */
export const DEVICE_MODE = 0o666;

/** Where the private copies are and what makes them (host/facts.ts gathers this for a run by root). */
export interface DeviceFacts {
  /** A directory of isolate's state directory (hidden from every sandbox). */
  dir: string;
  /** The mknod program, which makes a missing or wrong node (Node has no mknod). */
  mknod: string | undefined;
}

/** The device number as stat reports it (st_rdev), for the kernel's encoding of small numbers. */
export function deviceNumber(node: Pick<DeviceNode, 'major' | 'minor'>): number {
  return (node.major << 8) | node.minor;
}

/** The path of a node's private copy. */
export const nodePath = (dir: string, node: DeviceNode): string => `${dir}/${node.name}`;

/**
 * `argv` with the device copies named by their paths instead of the
 * descriptors run/ hands over (Plan.deviceFd): for a command line a person
 * runs (explain), which has no such descriptors, and could not open the
 * copy of /dev/tty without a controlling terminal. bwrap's `--dev-bind
 * /proc/self/fd/N` becomes `--dev-bind <copy>`, and the `--ro-bind-fd N`
 * that makes bwrap close N is dropped. Pure.
 */
export function deviceArgsByPath(argv: readonly string[], devices: DeviceFacts | undefined, deviceFd: number | undefined): string[] {
  if (devices === undefined || deviceFd === undefined) return [...argv];
  const nodeOf = (fd: string): DeviceNode | undefined => DEVICE_NODES[Number(fd) - deviceFd];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [arg, next = ''] = [argv[i] ?? '', argv[i + 1]];
    const viaFd = /^\/proc\/self\/fd\/(\d+)$/.exec(next)?.[1];
    const closer = arg === '--ro-bind-fd' && /^\d+$/.test(next) ? nodeOf(next) : undefined;
    if (closer !== undefined) {
      i += 2;
      continue;
    }
    const node = arg === '--dev-bind' && viaFd !== undefined ? nodeOf(viaFd) : undefined;
    out.push(arg);
    if (node === undefined) continue;
    out.push(nodePath(devices.dir, node));
    i++;
  }
  return out;
}
