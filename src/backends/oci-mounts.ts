/**
 * The setup operations (setup-ops.ts) as an OCI runtime's filesystem: the
 * `mounts` list (applied in order, as bwrap applies its arguments), the
 * paths the runtime makes read-only or masks after every mount, and what
 * the bundle's rootfs directory must hold before the start (the symlinks of
 * the sandbox's own root). Pure.
 *
 * The root is an empty directory of the bundle, read-only; the runtime
 * creates each mount point in it. Every bind is recursive, nosuid and
 * nodev. Paths protected by a descriptor in a run (pins, protected names,
 * the entries of sealed directories) are bound by path here: the runtime
 * resolves them once, when it starts, and run/ checks them before the
 * command starts (Plan.checkPathFds).
 * A sealed directory (seal.ts) cannot be a tmpfs here, as a runtime makes
 * no symlink in a mount: it is a directory of the run's bundle
 * (SEALED_DIRS/N), which run/ makes with the links in it, bound at its path;
 * the runtime makes the mount points of its entries in it (the bundle is
 * isolate's, out of every other program's way), and it is read-only once
 * everything is mounted (readonlyPaths).
 */
import { basename, dirname } from 'node:path';
import { IsolateError } from '../errors.js';
import { DEVICE_NODES } from './devices.js';
import { inSealed } from './seal.js';
import { DEV_SHM, DEV_SHM_MODE, HIDDEN_DIR_MODE, type SetupOp } from './setup-ops.js';
import type { SealType } from './types.js';

export interface OciMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** A symlink in the bundle's rootfs: `path` inside the sandbox leads to `target`. */
export interface RootfsLink {
  readonly path: string;
  readonly target: string;
}

/** Where, in the bundle directory, sealed directory N is made (SEALED_DIRS/N). */
export const SEALED_DIRS = 'sealed';
/** The bundle's directory of git configuration files shown without their secrets (one file per `git-config` operation, by index). */
export const GIT_CONFIGS = 'git-configs';

/** A sealed directory's stand-in in the bundle: `dir` and the links in it, relative to the bundle directory. */
export interface SealedDir {
  readonly dir: string;
  readonly links: readonly RootfsLink[];
}

export interface OciFilesystem {
  mounts: OciMount[];
  /** The sealed directories' stand-ins, in SEALED_DIRS order. */
  sealed: SealedDir[];
  /** The host entries of sealed directories, each bound at its own path, with the type listed (BundlePlan.sealEntries). */
  sealEntries: { path: string; type: SealType }[];
  /** Files of the bundle, relative to it, that mounts bind: git configuration without its secrets (BundlePlan.files). */
  files: { path: string; data: string }[];
  readonlyPaths: string[];
  maskedPaths: string[];
  rootReadOnly: boolean;
  links: RootfsLink[];
}

/** What an empty protected name is bound from: the host's /dev/null, as the runtime masks a file. */
export const EMPTY_SOURCE = '/dev/null';

const BIND = ['rbind', 'nosuid', 'nodev'];
const sizeOption = (size: number | undefined): string[] => (size === undefined ? [] : [`size=${String(size)}`]);
const bind = (path: string, readOnly: boolean, source = path): OciMount => ({ destination: path, type: 'bind', source, options: [...BIND, readOnly ? 'ro' : 'rw'] });
const tmpfs = (path: string, mode: string, size?: number): OciMount => ({
  destination: path,
  type: 'tmpfs',
  source: 'tmpfs',
  options: ['nosuid', 'nodev', `mode=${mode}`, ...sizeOption(size)],
});

/** An empty directory nothing can be made in: an exported placeholder that is a directory (mounts.ts, placeholderIsDir). */
const emptyDir = (path: string): OciMount => ({ destination: path, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'ro', 'mode=0555'] });

/** /dev as OCI runtimes build it (their default devices), a private devpts, and /dev/shm. */
function devMounts(path: string, shmSize: number | undefined): OciMount[] {
  return [
    { destination: path, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: `${path}/pts`, type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: DEV_SHM, type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', `mode=${DEV_SHM_MODE}`, ...sizeOption(shmSize)] },
  ];
}

/**
 * Where a placeholder's read-only mount comes from. export: the runtime
 * creates the empty file and binds EMPTY_SOURCE over it (a directory: an
 * empty read-only tmpfs, emptyDir). run: isolate made the placeholder itself
 * (Plan.pathFds), which is bound onto itself, so that isolate can check it
 * is the very file or directory it opened.
 */
export type PlaceholderSource = 'empty' | 'self';

/** `bundled`: the path in the run's bundle of a sealed directory's stand-in (`sealed`, by path) or of a git configuration's text (by index). */
interface Bundled {
  sealed(path: string): string;
  gitConfig(index: number): string;
}

function opMounts(op: SetupOp, placeholders: PlaceholderSource, bundled: Bundled): OciMount[] {
  switch (op.kind) {
    case 'proc':
      return [{ destination: op.path, type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] }];
    case 'dev':
      return devMounts(op.path, op.shmSize);
    case 'tmpfs':
      return [tmpfs(op.path, '0755', op.size)];
    case 'bind':
      return [bind(op.path, op.readOnly)];
    case 'seal':
      // Writable until the runtime has made every mount point in it; then read-only (a `read-only` operation).
      return [bind(op.path, false, bundled.sealed(op.path))];
    case 'seal-bind':
    case 'submount':
      return [bind(op.path, true)];
    case 'pin':
      return [bind(op.path, false)];
    case 'protect':
      return [bind(op.path, true)];
    case 'placeholder':
      if (placeholders === 'self') return [bind(op.path, true)];
      return [op.dir === true ? emptyDir(op.path) : bind(op.path, true, EMPTY_SOURCE)];
    case 'git-config':
      return [bind(op.path, true, bundled.gitConfig(op.index))];
    case 'hide':
      return op.dir ? [tmpfs(op.path, HIDDEN_DIR_MODE)] : [bind(op.path, true, EMPTY_SOURCE)];
    case 'socket-dir':
      return [bind(op.path, true, op.source)];
    case 'kernel-read-only':
    case 'kernel-mask':
    case 'symlink':
    case 'read-only':
      return [];
  }
}

/**
 * The device nodes the runtime puts in /dev, made read-only once it has:
 * run by root in a user namespace, a runtime binds the host's own nodes,
 * which the container's uid 0 (the host's) owns and could otherwise chmod.
 * A read-only remount keeps them usable (runc and crun keep a mount's nodev
 * as it is, and these have none) and refuses chmod and touch.
 */
const deviceNodePaths = (ops: readonly SetupOp[]): string[] => ops.flatMap((op) => (op.kind === 'dev' ? DEVICE_NODES.map((node) => `${op.path}/${node.name}`) : []));

/**
 * The list as an OCI filesystem: mounts in order, then the runtime's
 * read-only and masked paths. `bundleDir`: where the run's bundle is, for
 * the sealed directories' stand-ins (an export has none) and the git
 * configuration shown without its secrets. Without it (an export, whose
 * directory may be moved or copied), that configuration is bound from a
 * path relative to the bundle, which the runtime resolves there
 * (runtime-spec: a bind's source may be relative to the bundle); a bundle
 * without the file does not start.
 */
export function ociFilesystem(ops: readonly SetupOp[], placeholders: PlaceholderSource = 'empty', bundleDir?: string): OciFilesystem {
  const paths = (kind: SetupOp['kind']): string[] => ops.filter((op) => op.kind === kind).map((op) => op.path);
  const readOnly = paths('read-only');
  const seals = paths('seal');
  const standIn = (path: string): string => `${SEALED_DIRS}/${seals.indexOf(path)}`;
  const inBundle = (path: string, what: string): string => {
    if (bundleDir === undefined) throw new IsolateError('E_INTERNAL', `internal error: ${path} is ${what} and the bundle has no place for it`);
    return `${bundleDir}/${path}`;
  };
  const gitConfigs = ops.flatMap((op) => (op.kind === 'git-config' ? [op] : []));
  const bundled: Bundled = {
    sealed: (path) => inBundle(standIn(path), 'sealed'),
    gitConfig: (index) => (bundleDir === undefined ? `${GIT_CONFIGS}/${index}` : `${bundleDir}/${GIT_CONFIGS}/${index}`),
  };
  const links = ops.flatMap((op) => (op.kind === 'symlink' ? [{ path: op.path, target: op.target }] : []));
  const sealed = new Set(seals);
  return {
    mounts: ops.flatMap((op) => opMounts(op, placeholders, bundled)),
    sealed: seals.map((dir) => ({ dir: standIn(dir), links: links.filter((l) => dirname(l.path) === dir).map((l) => ({ path: `${standIn(dir)}/${basename(l.path)}`, target: l.target })) })),
    sealEntries: ops.flatMap((op) => (op.kind === 'seal-bind' ? [{ path: op.path, type: op.type }] : [])),
    files: gitConfigs.map((op) => ({ path: `${GIT_CONFIGS}/${op.index}`, data: op.text })),
    readonlyPaths: [...paths('kernel-read-only'), ...readOnly.filter((p) => p !== '/'), ...deviceNodePaths(ops)],
    maskedPaths: paths('kernel-mask'),
    rootReadOnly: readOnly.includes('/'),
    links: links.filter((l) => !inSealed(sealed, l.path)),
  };
}
