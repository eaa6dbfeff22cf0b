/**
 * The cgroups an OCI runtime run by root makes for a container, at
 * <its own cgroup>/<container name> in every hierarchy, and removes when it
 * ends. A runtime killed with its isolate leaves them; `runtime delete`
 * removes them while the bundle's state is there (bundle.ts). Those of a
 * bundle that is gone (its directory removed by hand) are removed here:
 * empty cgroups named as the bundle of an isolate that no longer runs, next
 * to where this process's runtime would make its own. rmdir refuses a
 * cgroup that has processes or cgroups inside.
 */
import { readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { staleBundleName } from '../host/oci-bundle-dir.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** This process's cgroup paths (v1: one per hierarchy; v2: one), from /proc/self/cgroup. */
function ownPaths(): string[] {
  try {
    return [...new Set(readFileSync('/proc/self/cgroup', 'utf8').split('\n').map((l) => l.split(':').slice(2).join(':')).filter((p) => p.startsWith('/')))];
  } catch {
    return [];
  }
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [e.name] : []));
  } catch {
    return [];
  }
}

/** Remove the empty cgroups of dead runs' containers beside this process's own, in every hierarchy mounted under /sys/fs/cgroup. */
export function sweepRuntimeCgroups(): void {
  if (process.getuid?.() !== 0) return;
  const hierarchies = [CGROUP_ROOT, ...listDirs(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h))];
  for (const h of hierarchies) {
    for (const own of ownPaths()) {
      const parent = join(h, own);
      for (const name of listDirs(parent)) {
        if (!staleBundleName(name)) continue;
        try {
          rmdirSync(join(parent, name));
        } catch {
          // has processes, or is not a cgroup: left as it is
        }
      }
    }
  }
}
