/** What a Kubernetes rendering of a sandbox leaves out or weakens, said once per kind (render.ts). Pure. */
import type { Policy } from '../../profile/types.js';
import type { SetupOp } from '../setup-ops.js';

/** Limits with no field in a Pod, and where a cluster sets them instead. */
const UNRENDERED_LIMITS: readonly [keyof Policy['limits'], string][] = [
  ['cpuSeconds', 'limits.cpu (CPU time): no Pod field; Kubernetes limits a rate (resources.limits.cpu), not a total'],
  ['processes', "limits.processes: no Pod field; the kubelet's podPidsLimit sets it for every Pod of a node"],
  ['openFiles', "limits.openFiles: no Pod field; the container runtime's default applies"],
  ['fileSizeBytes', "limits.fileSize: no Pod field; the container runtime's default applies"],
];

/** `runtimeDefault`: why the Pod has the runtime's seccomp profile (asked for, or the profile has no syscall rules); undefined when it has isolate's. */
export function k8sNotes(policy: Policy, ops: readonly SetupOp[], runtimeDefault: 'localhost' | 'runtime-default' | undefined): string[] {
  const notes = [
    "read-only paths are the image's own files (the root filesystem is read-only); no host path is mounted",
    ...(ops.some((op) => op.kind === 'bind' && !op.readOnly) ? ['writable paths are empty volumes (emptyDir): bring the work in (an init container, a volume of your own)'] : []),
    ...(policy.filesystem.protect.length > 0 ? ['protected names are not rendered: the writable volumes start empty and end with the Pod; where you replace one with a volume that outlives it, nothing keeps .git/hooks and the like read-only'] : []),
    "the kernel's /proc and /sys are masked by the container runtime's defaults, not isolate's kernel guard",
    ...UNRENDERED_LIMITS.filter(([key]) => policy.limits[key] !== undefined).map(([, text]) => text),
    ...(runtimeDefault === 'runtime-default' ? ["seccomp: RuntimeDefault, the container runtime's own profile, weaker than isolate's rules (they are not applied)"] : []),
    ...(runtimeDefault === 'localhost' ? ["seccomp: the profile has no syscall rules; the Pod gets the container runtime's own profile (RuntimeDefault)"] : []),
    ...networkNotes(policy),
  ];
  return notes;
}

function networkNotes(policy: Policy): string[] {
  if (policy.network.mode === 'host') return ["network host: no NetworkPolicy; the Pod has the cluster's network"];
  return ['the NetworkPolicy is enforced only by a network plugin that enforces NetworkPolicy (Calico, Cilium, ...)'];
}
