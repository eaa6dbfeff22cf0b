/**
 * The setup operations (setup-ops.ts) as nsjail mounts, in their order: the
 * `mount` fields of nsjail's config. Where nsjail is not bubblewrap:
 * - it has no --dev: the minimal /dev is built from mounts, as bwrap's --dev
 *   builds it (devTree), with its device nodes read-only (bwrap cannot: its
 *   read-only binds are nodev);
 * - it makes a mount read-only only after the whole tree is mounted (rw:
 *   false), which is the moment a `read-only` operation names: so that
 *   operation is the rw flag of the mount at its path, nothing of its own
 *   (its root is a 16 MiB tmpfs of its own, which it makes read-only too:
 *   the `read-only` of `/` needs nothing here);
 * - it makes only the top mount of a recursive bind read-only, so each
 *   `submount` is a read-only bind of its own (optional: one that is gone
 *   by the start is not missed);
 * - it cannot bind a descriptor: pins, protected names, placeholders and the
 *   entries of sealed directories are bound by path, and run/ checks them
 *   against its descriptors before the command starts (nsjail.ts,
 *   Plan.checkPathFds); a sealed entry a host program removed or swapped for
 *   a link since the listing is bound from its empty stand-in instead, as
 *   with bwrap and oci: run/ rewrites its bind when it hands the config over
 *   (nsjail-stand-ins.ts);
 * - it needs to know whether a mount point is there: in a sealed directory
 *   (seal.ts) none is, each is made in its tmpfs;
 * - /proc is read-only as a whole (the kernel guard's read-only binds keep
 *   their meaning should that change).
 * Pure.
 */
import { gitConfigUnsupported } from './git-config.js';
import { DEVICE_NODES, nodePath } from './devices.js';
import type { Field } from './nsjail-proto.js';
import { DEV_SHM, HIDDEN_DIR_MODE, type SetupOp } from './setup-ops.js';
import { inSealed, SEALED_DIR_MODE } from './seal.js';

/**
 * One mount in nsjail's terms. `exists`: the target is already there when
 * this mount is made (a host file seen through a parent bind); otherwise
 * nsjail creates it as a `dir` or a file.
 */
type MountOp =
  | { op: 'proc'; path: string }
  | { op: 'tmpfs'; path: string; readOnly: boolean; mode?: string; size?: number }
  | { op: 'devpts'; path: string }
  | { op: 'bind'; src: string; dst: string; readOnly: boolean; dir: boolean; exists: boolean; device?: true; optional?: true }
  | { op: 'symlink'; target: string; link: string };

/** The `mount` fields for the list. */
export function setupMounts(ops: readonly SetupOp[]): Field[] {
  const readOnlyLater = new Set(ops.flatMap((op) => (op.kind === 'read-only' ? [op.path] : [])));
  const sealed = new Set(ops.flatMap((op) => (op.kind === 'seal' ? [op.path] : [])));
  return ops.flatMap((op) => nsjailMounts(op, readOnlyLater.has(op.path), !inSealed(sealed, op.path))).map(mountField);
}

const onto = (path: string, readOnly: boolean, dir: boolean, exists: boolean): MountOp => ({ op: 'bind', src: path, dst: path, readOnly, dir, exists });
const devNullOver = (path: string, exists: boolean): MountOp => ({ op: 'bind', src: '/dev/null', dst: path, readOnly: true, dir: false, exists });

/** `there`: the mount point of a path seen through a parent's bind is there already (one in a sealed directory is not). */
function nsjailMounts(op: SetupOp, readOnlyLater: boolean, there: boolean): MountOp[] {
  switch (op.kind) {
    case 'proc':
      return [{ op: 'proc', path: op.path }];
    case 'dev':
      return devTree(op.path, readOnlyLater, op.shmSize, op.nodes);
    case 'tmpfs':
      return [{ op: 'tmpfs', path: op.path, readOnly: readOnlyLater, ...(op.size === undefined ? {} : { size: op.size }) }];
    case 'bind':
      return [onto(op.path, op.readOnly, op.dir, op.exists)];
    case 'seal':
      return [{ op: 'tmpfs', path: op.path, readOnly: readOnlyLater, mode: SEALED_DIR_MODE }];
    case 'seal-bind':
      // By path, checked by run/ against its descriptor before the command starts (Plan.checkPathFds): one gone or swapped is refused.
      return [{ op: 'bind', src: op.path, dst: op.path, readOnly: true, dir: op.type === 'dir', exists: false }];
    case 'submount':
      return [{ op: 'bind', src: op.path, dst: op.path, readOnly: true, dir: true, exists: true, optional: true }];
    case 'pin':
      return [onto(op.path, false, true, true)];
    case 'protect':
    case 'kernel-read-only':
      return [onto(op.path, true, op.dir === true, there)];
    case 'git-config':
      throw gitConfigUnsupported(op.path, 'nsjail');
    case 'placeholder':
      // The empty file (or directory) run/ created just before the start.
      return [onto(op.path, true, op.dir === true, there)];
    case 'hide':
    case 'kernel-mask':
      return op.dir ? [{ op: 'tmpfs', path: op.path, readOnly: readOnlyLater, mode: HIDDEN_DIR_MODE }] : [devNullOver(op.path, there)];
    case 'symlink':
      return [{ op: 'symlink', target: op.target, link: op.path }];
    case 'read-only':
      return [];
    case 'socket-dir':
      return [{ op: 'bind', src: op.source, dst: op.path, readOnly: true, dir: true, exists: false }];
  }
}

/**
 * The minimal /dev bwrap's --dev builds, with /dev/shm (tmpfs's own default
 * mode is DEV_SHM_MODE, 1777). Each device node is bound read-only (and not
 * nodev): the device can still be read and written, its inode not changed
 * (no chmod, no touch), and from isolate's private copies for a run by root.
 */
function devTree(dev: string, readOnly: boolean, shmSize: number | undefined, nodes: string | undefined): MountOp[] {
  const devices = DEVICE_NODES.map(
    (node): MountOp => ({ op: 'bind', src: nodes === undefined ? `${dev}/${node.name}` : nodePath(nodes, node), dst: `${dev}/${node.name}`, readOnly: true, dir: false, exists: false, device: true }),
  );
  return [
    { op: 'tmpfs', path: dev, readOnly, mode: '0755' },
    ...devices,
    { op: 'tmpfs', path: DEV_SHM, readOnly: false, ...(shmSize === undefined ? {} : { size: shmSize }) },
    { op: 'devpts', path: `${dev}/pts` },
    { op: 'symlink', target: '/proc/self/fd', link: `${dev}/fd` },
    { op: 'symlink', target: '/proc/self/fd/0', link: `${dev}/stdin` },
    { op: 'symlink', target: '/proc/self/fd/1', link: `${dev}/stdout` },
    { op: 'symlink', target: '/proc/self/fd/2', link: `${dev}/stderr` },
    { op: 'symlink', target: 'pts/ptmx', link: `${dev}/ptmx` },
  ];
}

/**
 * Mount flags as bwrap sets them: nosuid everywhere; nodev on everything
 * but the device nodes of /dev (so a /dev/null placeholder or a hidden file
 * cannot even be opened, as with bwrap's --ro-bind); /proc also noexec.
 */
function mountField(op: MountOp): Field {
  switch (op.op) {
    case 'proc':
      return ['mount', [['dst', op.path], ['fstype', 'proc'], ['rw', false], ['is_dir', true], ['nosuid', true], ['nodev', true], ['noexec', true]]];
    case 'tmpfs':
      return [
        'mount',
        [['dst', op.path], ['fstype', 'tmpfs'], ['rw', !op.readOnly], ['is_dir', true], ...tmpfsOptions(op), ['nosuid', true], ['nodev', true]],
      ];
    case 'devpts':
      // A private instance, as bwrap's --dev mounts one: no access to the host's terminals.
      return ['mount', [['dst', op.path], ['fstype', 'devpts'], ['rw', true], ['is_dir', true], ['options', 'newinstance,ptmxmode=0666,mode=620'], ['nosuid', true], ['noexec', true]]];
    case 'bind': {
      const device = op.device === true;
      // is_dir only says how nsjail creates a missing target (mkdir, or an
      // empty file). For a target that is already there it must be true:
      // for a "file" nsjail first opens the target for reading, which fails
      // on a file the sandbox may not read (/etc/shadow as an ordinary user),
      // while mkdir of an existing path fails with EEXIST, which nsjail accepts.
      return [
        'mount',
        [['src', op.src], ['dst', op.dst], ['is_bind', true], ['rw', !op.readOnly], ['is_dir', op.dir || op.exists], ['nosuid', true], ['nodev', !device], ...(op.optional ? [['mandatory', false] as Field] : [])],
      ];
    }
    case 'symlink':
      return ['mount', [['src', op.target], ['dst', op.link], ['is_symlink', true]]];
  }
}

function tmpfsOptions(op: Extract<MountOp, { op: 'tmpfs' }>): Field[] {
  const options = [...(op.mode === undefined ? [] : [`mode=${op.mode}`]), ...(op.size === undefined ? [] : [`size=${op.size}`])];
  return options.length === 0 ? [] : [['options', options.join(',')]];
}
