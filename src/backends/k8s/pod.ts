/**
 * The pieces of a Kubernetes Pod that carry a sandbox's settings: the
 * security contexts, the volumes rendered from the setup operations
 * (setup-ops.ts), and the resource limits. Pure.
 *
 * The Pod's root filesystem is its image, read-only (readOnlyRootFilesystem):
 * a profile's read-only paths are the image's own files and need no volume.
 * What the sandbox may write becomes a volume of its own:
 * - a tmpfs path: a memory-backed emptyDir (of the profile's tmpfs size);
 * - a writable path: an emptyDir (it starts empty: the Pod has no access to
 *   the host's files, so the operator brings the work in, docs/kubernetes.md);
 * - a hidden directory: one empty emptyDir mounted read-only at each;
 * - a hidden file: an empty ConfigMap key of mode 0000 mounted over it.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { Limits } from '../../profile/types.js';
import type { SetupOp } from '../setup-ops.js';

/** The key of the hidden-files ConfigMap: an empty value, mounted with mode 0000 over each hidden file. */
export const EMPTY_KEY = 'empty';
export const HIDDEN_DIRS_VOLUME = 'hidden-dirs';
export const HIDDEN_FILES_VOLUME = 'hidden-files';

export type SeccompChoice = { type: 'Localhost'; localhostProfile: string } | { type: 'RuntimeDefault' };

/** Non-root, with the seccomp profile; fsGroup makes the emptyDir volumes the user's. */
export function podSecurity(uid: number, seccomp: SeccompChoice): IPodSecurityContext {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: seccomp };
}

/** No privilege: no capability, no set-user-ID gain, a read-only root, never root. */
export function containerSecurity(): ISecurityContext {
  return { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
}

export interface PodVolumes {
  volumes: IVolume[];
  mounts: IVolumeMount[];
}

/** The volumes and mounts for the setup operations that write or hide; `hiddenFiles` names the ConfigMap of the empty key. */
export function opVolumes(ops: readonly SetupOp[], hiddenFiles: string): PodVolumes {
  const volumes: IVolume[] = [];
  const mounts: IVolumeMount[] = [];
  ops.forEach((op) => {
    if (op.kind === 'tmpfs') {
      const name = `tmpfs-${volumes.length}`;
      volumes.push({ name, emptyDir: { medium: 'Memory', ...(op.size === undefined ? {} : { sizeLimit: quantity(op.size) }) } });
      mounts.push({ name, mountPath: op.path });
    } else if (op.kind === 'bind' && !op.readOnly) {
      const name = `write-${volumes.length}`;
      volumes.push({ name, emptyDir: {} });
      mounts.push({ name, mountPath: op.path });
    } else if (op.kind === 'hide') {
      mounts.push(op.dir ? { name: HIDDEN_DIRS_VOLUME, mountPath: op.path, readOnly: true } : { name: HIDDEN_FILES_VOLUME, mountPath: op.path, subPath: EMPTY_KEY, readOnly: true });
    }
  });
  const hides = (name: string): boolean => mounts.some((m) => m.name === name);
  if (hides(HIDDEN_DIRS_VOLUME)) volumes.push({ name: HIDDEN_DIRS_VOLUME, emptyDir: { sizeLimit: '1Ki' } });
  if (hides(HIDDEN_FILES_VOLUME)) volumes.push({ name: HIDDEN_FILES_VOLUME, configMap: { name: hiddenFiles, defaultMode: 0 } });
  return { volumes, mounts };
}

/** The memory limit: the profile's, else its ceiling. */
export function resources(limits: Limits): NonNullable<IContainer['resources']> {
  const memory = limits.memoryBytes ?? limits.ceilings?.memoryBytes;
  return memory === undefined ? {} : { limits: { memory: quantity(memory) } };
}

const BINARY_SUFFIXES: readonly [string, number][] = [
  ['Ti', 1024 ** 4],
  ['Gi', 1024 ** 3],
  ['Mi', 1024 ** 2],
  ['Ki', 1024],
];

/** Bytes as a Kubernetes quantity: the largest binary suffix that divides it exactly (8Gi), else plain bytes. */
export function quantity(bytes: number): string {
  const [suffix, unit] = BINARY_SUFFIXES.find(([, u]) => bytes % u === 0) ?? ['', 1];
  return `${bytes / unit}${suffix}`;
}
