/**
 * `isolate export --format oci`: a runtime bundle, config.json beside the
 * rootfs directory the runtime mounts everything into (empty but for the
 * symlinks of the sandbox's own root, such as /bin -> /usr/bin), and the
 * git configuration files that hold a credential, without it, in
 * git-configs/ (bound from there, never from the host's file). Pure.
 */
import type { ExportEntry, Exporter } from './export.js';
import { ROOTFS, ociBundle } from './oci-config.js';
import { GIT_CONFIGS } from './oci-mounts.js';

export const CONFIG_FILE = 'config.json';

/** What every OCI bundle leaves to the runtime and the operator (docs/oci.md). */
const BUNDLE_NOTES = [
  'start it with `runc run --bundle DIR NAME` or `crun run --bundle DIR NAME` (as root or rootless); the runtime creates the mount points in rootfs/',
  'the runtime resolves every path once, when it starts: a path swapped for a symlink before then is followed (isolate run opens them itself)',
  'a protected name that does not exist is created by the runtime as an empty file, covered read-only for the run, and left in place afterwards',
  'no timeout, no audit record, no filtering proxy: those are isolate run\'s, outside the sandbox',
];

/** The directories leading to `path` inside rootfs, shallowest first. */
export function parents(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.slice(0, -1).map((_p, i) => `${ROOTFS}/${parts.slice(0, i + 1).join('/')}`);
}

export const ociExporter: Exporter = {
  format: 'oci',
  needsMountPoints: true,
  render(policy, command, host) {
    const bundle = ociBundle(policy, command, host);
    const dirs = [...new Set(bundle.links.flatMap((l) => parents(l.path)))];
    const entries: ExportEntry[] = [
      { kind: 'file', path: CONFIG_FILE, content: `${JSON.stringify(bundle.config, null, 2)}\n` },
      { kind: 'dir', path: ROOTFS },
      ...dirs.map((path): ExportEntry => ({ kind: 'dir', path })),
      ...bundle.links.map((l): ExportEntry => ({ kind: 'symlink', path: `${ROOTFS}${l.path}`, target: l.target })),
      ...(bundle.files.length === 0 ? [] : [{ kind: 'dir' as const, path: GIT_CONFIGS }]),
      ...bundle.files.map((f): ExportEntry => ({ kind: 'file', path: f.path, content: f.data })),
    ];
    return { format: 'oci', entries, main: CONFIG_FILE, notes: [...bundle.notes, ...BUNDLE_NOTES] };
  },
};
