/**
 * Sealed directories: the read-only parents of the profile's hidden paths,
 * rebuilt in the sandbox instead of shown as views of the host's directory.
 *
 * A hidden path is hidden by a mount over it. When a program on the host
 * replaces it while the command runs (a new file renamed over it, or the
 * file removed and made again: `git credential-store`, shells saving their
 * history, editors; `rm -rf` of a hidden directory), the kernel detaches
 * every mount on the old file in other mount namespaces, and a view of the
 * parent would show the new one. A sealed parent is a tmpfs of the
 * sandbox's with one entry per entry the host listed when the run was
 * planned (host facts: `sealed`): each bound read-only from the host onto a
 * mount point of that tmpfs (no host rename can detach it; a sibling the
 * host replaces keeps its old content in the sandbox), from a descriptor
 * run/ opens without following a link just before the start (Plan.pathFds:
 * an entry a host program swapped for a link to a hidden path meanwhile is
 * bound from an empty stand-in instead, never followed), a symbolic link
 * recreated as a link to the same target (never bound: a bind would follow
 * it), the hidden entries hidden as before on mount points of the tmpfs,
 * and the tmpfs made read-only once everything in it is mounted. Entries
 * made on the host after the plan do not appear. The sealed directory
 * itself stays a host directory's mount point: the kernel lets a directory
 * be removed or renamed over only when it is empty, and a host rename of it
 * elsewhere keeps the mount on it.
 *
 * A hidden path in a writable directory is not sealed (the command must be
 * able to create files beside it), nor are the entries hidden for a run by
 * root (host/root-only.ts): see README.md, "What is enforced". Pure.
 */
import { dirname } from 'node:path';
import { IsolateError } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { effectiveKind, governing, isWithin } from '../profile/mount-rules.js';
import { SANDBOX_NET_DIR } from './forwarder.js';
import type { SealFact, SealType } from './types.js';

/** A sealed directory's own operations (see setup-ops.ts). */
export type SealOp =
  /** The empty tmpfs over the directory (SEALED_DIR_MODE), made read-only once its entries are mounted. */
  | { kind: 'seal'; path: string }
  /**
   * One host entry of a sealed directory, of the listed `type`, bound read-only onto a mount point made in the
   * tmpfs from a descriptor run/ opens without following a link just before the start: Plan.pathFds entry `slot`.
   * One that is no longer of that type then (a link, gone, another type) is bound from an empty stand-in of
   * isolate's instead (Plan.pathFds, `seal`): never from what a link leads to.
   */
  | { kind: 'seal-bind'; path: string; type: SealType; slot: number }
  /** A host link of a sealed directory, made again as a link to the same target. */
  | { kind: 'symlink'; path: string; target: string };

/** The mode of a sealed directory's tmpfs. */
export const SEALED_DIR_MODE = '0755';

/** The directories to seal: the parents, read-only in the sandbox, of the paths the profile's rules hide. Sorted. */
export function sealedParents(rules: readonly MountRule[]): string[] {
  const parents = new Set<string>();
  for (const rule of rules) {
    if (rule.kind !== 'deny' || rule.path === '/' || governing(rules, rule.path) !== rule) continue;
    const parent = dirname(rule.path);
    if (effectiveKind(rules, parent) === 'read' && sealable(parent)) parents.add(parent);
  }
  return [...parents].sort();
}

/** Where the sandbox's own mounts go: its /proc, its /dev, the kernel's filesystems it guards, the proxy's socket directory. */
const SYSTEM_PATHS = ['/proc', '/dev', '/sys', SANDBOX_NET_DIR];

/**
 * Whether a directory may be sealed: not `/`, nor one holding or inside the sandbox's own mounts, which a sealed
 * tmpfs would cover with the host's entries (the host's /proc and /dev in place of the sandbox's). A hidden path in
 * such a directory stays covered on the host's entry, and watched during the run (setup-plan.ts, uncoverable).
 */
export function sealable(dir: string): boolean {
  return dir !== '/' && !SYSTEM_PATHS.some((system) => isWithin(system, dir) || isWithin(dir, system));
}

const childOf = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/**
 * Whether a directory listed for a hidden path that does not exist yet (SealFact.absent) is sealed: one the
 * sandbox sees read-only, and may seal.
 */
export function sealsAbsent(rules: readonly MountRule[], dir: string): boolean {
  return effectiveKind(rules, dir) === 'read' && sealable(dir);
}

/**
 * The directories to seal: the parents of hidden paths (sealedParents), and the directories the host facts list as
 * the nearest above a hidden path that does not exist yet (SealFact.absent): a path a host program makes there
 * during the run is not seen. Sorted.
 */
export function sealCandidates(rules: readonly MountRule[], listings: readonly SealFact[]): string[] {
  const absent = listings.flatMap((l) => (l.absent === true && sealsAbsent(rules, l.path) ? [l.path] : []));
  return [...new Set([...sealedParents(rules), ...absent])].sort();
}

/** The directories sealed: sealCandidates but those the host facts keep as views of the host (SealFact.keep). */
export function sealedDirs(rules: readonly MountRule[], listings: readonly SealFact[]): string[] {
  const kept = new Set(listings.flatMap((l) => (l.keep === undefined ? [] : [l.path])));
  return sealCandidates(rules, listings).filter((dir) => !kept.has(dir));
}

/**
 * The most entries the sealed directories of one run may bind: each takes a descriptor isolate holds open
 * (and the launcher a copy of) from just before the start until the launcher has mounted it, and three of
 * bubblewrap's arguments, of which it takes at most 9,000 in all (about 2,900 entries, before the rest of the
 * plan). Opening and checking 2,000 of them takes 20 to 80 ms; their mounts take seconds, by path or by
 * descriptor alike. Node raises its limit of open files to the hard limit, most often far above this. Above
 * it the run is refused, never bound by path (a link swapped in would be followed) nor left unsealed.
 */
export const MAX_SEALED_ENTRIES = 2000;

/** More bound entries than MAX_SEALED_ENTRIES: refused, with the ways to seal less. */
function checkEntryCount(count: number): void {
  if (count <= MAX_SEALED_ENTRIES) return;
  throw new IsolateError('E_SANDBOX_SETUP', `the directories isolate seals for this run (read-only, holding a hidden path) have ${count} entries to bind, more than the ${MAX_SEALED_ENTRIES} isolate binds from descriptors in one run; the command was not run`, {
    fix: 'move entries of the crowded directory into a subdirectory, or make that directory hidden or writable in the profile rather than read-only (a subdirectory is bound as one entry)',
  });
}

/** Where the empty stand-in of an entry listed as `type` is, in the directory of stand-ins `dir` (Plan.standIns: run/launch/stand-ins.ts makes it). */
export function standInPath(dir: string, type: SealType): string {
  return `${dir}/${type === 'dir' ? 'dir' : 'file'}`;
}

/** A name the listing should never hold; refused rather than mounted somewhere else than meant. */
function checkName(dir: string, name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new IsolateError('E_PATH_INVALID', `${dir}: the listing holds the entry name ${JSON.stringify(name)}, which cannot be an entry of a directory; the command was not run`, {
      fix: 'run again; if it happens again, report it: isolate seals this directory (it holds a hidden path) and cannot list it soundly',
    });
  }
}

/**
 * The operations of every sealed directory: the tmpfs, then each listed
 * entry that has no operation of its own at its path (`own`: what the
 * profile's rules, the hidden paths and the protected names mount there,
 * which makes its own mount point in the tmpfs). The bound entries take the
 * descriptor slots from `firstSlot` on, in order. A directory without a
 * listing is refused: it would be sealed empty or not at all.
 */
export function sealOps(rules: readonly MountRule[], listings: readonly SealFact[], own: ReadonlySet<string>, firstSlot: number): SealOp[] {
  const parents = sealCandidates(rules, listings);
  const sealed = new Set(sealedDirs(rules, listings));
  let slot = firstSlot;
  const ops = parents.flatMap((dir): SealOp[] => {
    const listing = listings.find((l) => l.path === dir);
    if (listing?.keep !== undefined) return [];
    if (listing === undefined) {
      throw new IsolateError('E_SANDBOX_SETUP', `${dir} holds a hidden path and was not listed, so it cannot be sealed; the command was not run`, {
        fix: 'run again; if it happens again, report it (host facts without the listing of a sealed directory)',
      });
    }
    const entries = listing.entries.flatMap((entry): SealOp[] => {
      checkName(dir, entry.name);
      const path = childOf(dir, entry.name);
      if (own.has(path) || sealed.has(path)) return [];
      return entry.type === 'symlink' ? [{ kind: 'symlink', path, target: entry.target }] : [{ kind: 'seal-bind', path, type: entry.type, slot: slot++ }];
    });
    return [{ kind: 'seal', path: dir }, ...entries];
  });
  checkEntryCount(slot - firstSlot);
  return ops;
}

/** Whether `path` is an entry of a sealed directory: its mount point is made in the sealed tmpfs, not found there. */
export function inSealed(sealed: ReadonlySet<string>, path: string): boolean {
  return path !== '/' && sealed.has(dirname(path));
}

/** A run's plan without listings (host facts gathered for an export) while the policy has directories to seal: refused, not run unsealed. */
export function requireListings(rules: readonly MountRule[], listings: readonly SealFact[] | undefined): void {
  const dirs = sealedParents(rules);
  if (listings !== undefined || dirs.length === 0) return;
  throw new IsolateError('E_SANDBOX_SETUP', `${dirs.join(', ')} hold hidden paths and were not listed, so they cannot be sealed; the command was not run`, {
    fix: 'gather the host facts for a run (isolate run, or the API\'s run), not for an export',
  });
}
