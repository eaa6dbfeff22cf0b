/**
 * The OCI runtimes that can start an exported bundle here (runc, crun), and
 * which one works on this host's cgroup layout. crun (1.8) refuses a hybrid
 * layout, cgroup v1 controllers with a cgroup v2 mount beside them ("cgroups
 * in hybrid mode not supported"); runc runs there. On a unified (v2) or a
 * legacy (v1 only) host both do, and crun, the lighter, comes first.
 */
import { readFileSync } from 'node:fs';
import { probeSync } from '../process.js';
import { findSystemProgram } from './facts.js';

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy' | 'none';

export interface OciRuntime {
  name: 'runc' | 'crun';
  path: string;
  version: string | undefined;
  /** Why it cannot start a bundle here; undefined when it can. */
  refused?: string;
}

/** The cgroup layout from /proc/self/mountinfo's filesystem types (the field after " - "). */
export function cgroupLayout(mountinfo: string): CgroupLayout {
  const types = new Set(mountinfo.split('\n').map((line) => line.split(' - ')[1]?.split(' ')[0]));
  const v1 = types.has('cgroup');
  const v2 = types.has('cgroup2');
  return v1 && v2 ? 'hybrid' : v2 ? 'unified' : v1 ? 'legacy' : 'none';
}

/** A runtime's verdict on the layout. */
export function refusal(name: OciRuntime['name'], layout: CgroupLayout): string | undefined {
  if (name === 'crun' && layout === 'hybrid') return 'crun refuses a hybrid cgroup layout (cgroup v1 controllers beside a cgroup v2 mount): "cgroups in hybrid mode not supported"';
  return undefined;
}

/** The installed runtimes, in the order of preference, each with its verdict on this host. */
export function ociRuntimes(mountinfo = readMountinfo()): OciRuntime[] {
  const layout = cgroupLayout(mountinfo);
  const names: OciRuntime['name'][] = layout === 'hybrid' ? ['runc', 'crun'] : ['crun', 'runc'];
  return names.flatMap((name): OciRuntime[] => {
    const path = findSystemProgram(name);
    if (path === undefined) return [];
    const version = /version (\d+\.\d+(?:\.\d+)?)/.exec(probeSync(path, ['--version'], 5000).stdout)?.[1];
    const refused = refusal(name, layout);
    return [{ name, path, version, ...(refused === undefined ? {} : { refused }) }];
  });
}

function readMountinfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}
