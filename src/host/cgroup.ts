/**
 * Where a run's cgroup can go on this host. Gathered only when the policy
 * has a memory or process limit, or requires a cgroup.
 *
 * cgroup v2 (unified): the run's cgroup is created beside this process's own
 * cgroup, in its parent, which must have the needed controllers enabled for
 * its children (cgroup.subtree_control) and be writable by this user: the
 * root user, or a delegated subtree such as the one
 * `systemd-run --user --scope -p Delegate=yes` gives. A process can only be
 * moved between cgroups by a user who may write cgroup.procs of their common
 * parent, which is that directory. (The cgroup cannot go below this
 * process's own: v2 forbids a cgroup that has processes to also have
 * children with controllers.)
 *
 * cgroup v1 (legacy or hybrid hierarchies): each controller has its own
 * hierarchy; the run's cgroup is created inside this process's own cgroup of
 * each, so any limit the host puts on isolate still holds for the sandbox.
 * v1 is never delegated in practice: this is what root on an older or
 * hybrid host gets.
 */
import { constants, accessSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, posix } from 'node:path';
import type { CgroupFacts } from '../backends/types.js';

export interface CgroupNeeds {
  memory: boolean;
  pids: boolean;
}

/** What detection reads, so that it can be tested against made-up hosts. */
export interface CgroupProbe {
  /** /proc/self/cgroup */
  selfCgroup: string;
  /** /proc/self/mountinfo */
  mountinfo: string;
  read(path: string): string | undefined;
  /** Whether this process may write (and, for directories, enter) the path. */
  writable(path: string): boolean;
}

interface CgroupMount {
  root: string;
  point: string;
  fstype: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fstype = right[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const root = left[3];
    const point = left[4];
    if (root === undefined || point === undefined) continue;
    mounts.push({ root: unescape(root), point: unescape(point), fstype, superOptions: (right[2] ?? '').split(',') });
  }
  return mounts;
}

/** The directory of a cgroup path in a mount of its hierarchy, or undefined when the mount does not show it. */
function directoryOf(mount: CgroupMount, path: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (path !== root && !path.startsWith(`${root}/`) && root !== '') return undefined;
  const rel = path.slice(root.length);
  const dir = posix.normalize(`${mount.point}${rel}`);
  // Paths come from the kernel; still, never let one climb out of the mount.
  return dir === mount.point || dir.startsWith(`${mount.point}/`) ? dir.replace(/\/$/, '') : undefined;
}

function needed(needs: CgroupNeeds): string[] {
  return [...(needs.memory ? ['memory'] : []), ...(needs.pids ? ['pids'] : [])];
}

type Found = { ok: true; parents: { memory: string; pids: string } } | { ok: false; reason: string; fix: string };

const DELEGATE_FIX = 'run isolate in a delegated cgroup (systemd-run --user --scope -p Delegate=yes isolate run ...), or as root';

function tryV2(probe: CgroupProbe, needs: CgroupNeeds, uid: number, mounts: CgroupMount[]): Found {
  const line = probe.selfCgroup.split('\n').find((l) => l.startsWith('0::'));
  const mount = mounts.find((m) => m.fstype === 'cgroup2');
  if (line === undefined || mount === undefined) {
    return { ok: false, reason: 'cgroup v2 is not mounted', fix: 'boot with a unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1)' };
  }
  const own = directoryOf(mount, line.slice(3).trim());
  if (own === undefined) return { ok: false, reason: `this process's cgroup v2 (${line.slice(3)}) is not visible under ${mount.point}`, fix: DELEGATE_FIX };
  const parent = own === mount.point ? own : dirname(own);
  const enabled = (probe.read(`${parent}/cgroup.subtree_control`) ?? '').trim().split(/\s+/);
  const available = (probe.read(`${mount.point}/cgroup.controllers`) ?? '').trim().split(/\s+/);
  const missing = needed(needs).filter((c) => !enabled.includes(c));
  if (missing.length > 0) {
    const absent = missing.filter((c) => !available.includes(c));
    if (absent.length > 0) {
      return {
        ok: false,
        reason: `cgroup v2 at ${mount.point} has no ${absent.join(' or ')} controller${mount.point.endsWith('/unified') ? ' (a hybrid hierarchy: the controllers are bound to cgroup v1)' : ''}`,
        fix: 'boot with a unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1)',
      };
    }
    return { ok: false, reason: `the ${missing.join(' and ')} controller${missing.length > 1 ? 's are' : ' is'} not enabled for the cgroups in ${parent} (cgroup.subtree_control)`, fix: DELEGATE_FIX };
  }
  if (!probe.writable(parent) || !probe.writable(`${parent}/cgroup.procs`)) {
    return { ok: false, reason: `${parent} is not delegated to this user (uid ${uid})`, fix: DELEGATE_FIX };
  }
  return { ok: true, parents: { memory: parent, pids: parent } };
}

function tryV1(probe: CgroupProbe, needs: CgroupNeeds, mounts: CgroupMount[]): Found {
  const parents: Record<string, string> = {};
  for (const controller of needed(needs)) {
    const line = probe.selfCgroup.split('\n').find((l) => (l.split(':')[1] ?? '').split(',').includes(controller));
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes(controller));
    if (line === undefined || mount === undefined) {
      return { ok: false, reason: `no cgroup v1 ${controller} hierarchy is mounted`, fix: 'mount the cgroup controllers, or boot with a unified hierarchy' };
    }
    const own = directoryOf(mount, line.split(':').slice(2).join(':').trim());
    if (own === undefined) return { ok: false, reason: `this process's ${controller} cgroup is not visible under ${mount.point}`, fix: 'run isolate as root on the host' };
    if (!probe.writable(own) || !probe.writable(`${own}/cgroup.procs`)) {
      return { ok: false, reason: `${own} (cgroup v1) is not writable by this user`, fix: 'cgroup v1 needs root: run isolate as root, or use a host with a delegated cgroup v2' };
    }
    parents[controller] = own;
  }
  const any = parents['memory'] ?? parents['pids'] ?? '';
  return { ok: true, parents: { memory: parents['memory'] ?? any, pids: parents['pids'] ?? any } };
}

/** Pure decision: which cgroup version isolate can use for these needs. v2 first, then v1. */
export function detectCgroup(probe: CgroupProbe, needs: CgroupNeeds, uid: number, name: string): CgroupFacts {
  const mounts = parseMountinfo(probe.mountinfo);
  const v2 = tryV2(probe, needs, uid, mounts);
  if (v2.ok) return { version: 2, parents: v2.parents, name };
  const v1 = tryV1(probe, needs, mounts);
  if (v1.ok) return { version: 1, parents: v1.parents, name };
  return { version: undefined, unusable: { reason: `${v2.reason}; and ${v1.reason}`, fix: v2.fix === v1.fix ? v2.fix : `${v2.fix}; or ${v1.fix}` }, name };
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export const hostCgroupProbe: CgroupProbe = {
  selfCgroup: '',
  mountinfo: '',
  read: readOrUndefined,
  writable(path: string): boolean {
    try {
      accessSync(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

export function cgroupFacts(needs: CgroupNeeds, uid: number): CgroupFacts {
  const probe: CgroupProbe = {
    ...hostCgroupProbe,
    selfCgroup: readOrUndefined('/proc/self/cgroup') ?? '',
    mountinfo: readOrUndefined('/proc/self/mountinfo') ?? '',
  };
  return detectCgroup(probe, needs, uid, `isolate-${process.pid}-${randomBytes(4).toString('hex')}`);
}
