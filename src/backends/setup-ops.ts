/**
 * The sandbox's filesystem as one ordered list of setup operations, computed
 * once from the resolved policy and the host facts. Every backend only
 * renders this list: bwrap arguments (bwrap.ts), nsjail's mounts
 * (nsjail-mounts.ts), the SBPL rules of sandbox-exec (sbpl.ts). A security
 * rule of the sandbox's view (what is visible, read-only, hidden, kept in
 * place) lives here and nowhere else. The model is bubblewrap's own: it
 * parses its arguments into a list of SetupOp that one function applies in
 * order (bubblewrap.c, setup_newroot).
 *
 * The order, which every renderer keeps:
 * 1. the sandbox's own kernel filesystems: /proc, then /dev with /dev/shm;
 * 2. the profile's paths, the sealed directories (seal.ts) with their
 *    entries, and the protected names, shallower paths first; at one depth
 *    tmpfs and sealed directories, then binds and pins, then protected
 *    names, then hidden paths, then symlinks (a path must be mounted before
 *    anything inside it);
 * 3. the kernel guard (kernel-guard.ts), over the sandbox's /proc and /sys;
 * 4. `read-only`: the directories that had to stay writable while mounts were
 *    made beneath them (sealed and hidden directories, masked kernel
 *    directories, /dev);
 * 5. filtered network: the proxy's socket directory;
 * 6. `read-only` of the sandbox's root, last: bwrap builds the root as a
 *    tmpfs of its own, without a size, where every mount point above was
 *    created; left writable, a command could fill memory through it past
 *    every tmpfs ceiling (`/fill`, `/var/fill`).
 *
 * Pure: no disk, no process.
 */
import { dirname } from 'node:path';
import type { MountRule, Policy } from '../profile/types.js';
import { tmpfsSize } from './ceilings.js';
import { SANDBOX_NET_DIR } from './forwarder.js';
import { kernelGuardOps, procReadOnly, type GuardOp } from './kernel-guard.js';
import { depth, effectiveKind, governing, isVisible, isWithin, orderRules, protectOps, standsForHidden } from './mounts.js';
import { missingHiddenPaths } from '../profile/mount-rules.js';
import { inSealed, sealedDirs, sealOps, type SealOp } from './seal.js';
import type { GitConfigFact, HostFacts, SealFact } from './types.js';
import { gitConfigLinked } from './git-config.js';

const ROOT = '/';
const PROC = '/proc';
const DEV = '/dev';
/** Where /dev's shared-memory tmpfs goes. */
export const DEV_SHM = '/dev/shm';
/** The mode of a hidden directory: an empty tmpfs nobody can write (made read-only once its children are mounted). */
export const HIDDEN_DIR_MODE = '0555';
/** The mode of /dev/shm: world-writable and sticky, as on every host. */
export const DEV_SHM_MODE = '01777';

/** One step of building the sandbox's filesystem. Every path is absolute and real (see profile/resolve.ts). */
export type SetupOp =
  /** A fresh /proc of the sandbox's PID namespace. */
  | { kind: 'proc'; path: string }
  /**
   * A minimal /dev of the sandbox's own (null, zero, full, random, urandom,
   * tty, a private devpts, the /proc/self/fd links), with a tmpfs at
   * DEV_SHM (mode DEV_SHM_MODE) of shmSize bytes when the profile sizes tmpfs.
   * nodes: a directory of private copies of the device nodes (devices.ts) to
   * bind instead of the host's, for a run by root.
   */
  | { kind: 'dev'; path: string; shmSize?: number; nodes?: string }
  /** An empty writable tmpfs (a profile's tmpfs path), of `size` bytes when the profile sizes tmpfs. */
  | { kind: 'tmpfs'; path: string; size?: number }
  /**
   * The host's path bound onto itself. `exists`: the path is already there
   * (seen through a parent bind) when it is mounted; otherwise it is created
   * first, as a directory when `dir`, else as a file. `slot`: the
   * Plan.pathFds entry run/ opens for it without following a link, which
   * bwrap binds from (nsjail and an OCI runtime bind the path, and run/
   * checks their mount against it): a program on the host that swaps the
   * path, or a directory above it, for a link to a hidden path once run/ has
   * looked cannot make the sandbox show that. Every bind but one of `/`
   * (which no program can swap) has one; an export has none (bindSlots).
   */
  | { kind: 'bind'; path: string; readOnly: boolean; dir: boolean; exists: boolean; slot?: number }
  /** A host mount beneath a read-only bind, bound read-only onto itself when the sandbox has it (host facts: mountPoints). */
  | { kind: 'submount'; path: string }
  /**
   * A writable directory above a protected name, bound onto itself so that
   * it cannot be renamed away and replaced. From a descriptor run/ opens
   * without following symlinks: Plan.pathFds entry number `slot`.
   */
  | { kind: 'pin'; path: string; slot: number }
  /** A protected name that exists, bound read-only onto itself from Plan.pathFds entry `slot`. */
  | { kind: 'protect'; path: string; dir: boolean; slot: number; why?: string }
  /**
   * A protected name that does not exist: run/ creates an empty file there
   * (an empty directory, mode 0555, when `dir`: mounts.ts, placeholderIsDir),
   * removed after the run (Plan.cleanup), which is then bound read-only from
   * Plan.pathFds entry `slot`, like an existing one.
   */
  | { kind: 'placeholder'; path: string; dir?: true; slot: number }
  /**
   * A git configuration file with a secret in it (HostFacts.gitConfigs): the
   * sandbox sees `text`, the file without its secrets, read-only at its path.
   * `index`: its place among these operations (the launcher's input or the
   * bundle's file that holds the text). unparsed: the file could not be
   * parsed with certainty, and `text` is empty.
   */
  | { kind: 'git-config'; path: string; text: string; index: number; unparsed?: true }
  /**
   * Hidden: a file covered by an unopenable empty one, a directory by an empty tmpfs (HIDDEN_DIR_MODE) made read-only
   * later. credentialStore: a file a git credential helper keeps tokens in (HostFacts.gitCredentialStores).
   */
  | { kind: 'hide'; path: string; dir: boolean; credentialStore?: true }
  /** A symlink of the host (/bin -> /usr/bin) recreated where the sandbox owns the parent directory. */
  | { kind: 'symlink'; path: string; target: string }
  | GuardOp
  /** A sealed directory and its entries (seal.ts). */
  | SealOp
  /** Make the mount at `path` read-only, now that everything beneath it is mounted. */
  | { kind: 'read-only'; path: string }
  /** filtered network: the proxy's socket directory `source`, read-only at `path` (SANDBOX_NET_DIR). */
  | { kind: 'socket-dir'; path: string; source: string };

export type SetupOpKind = SetupOp['kind'];

/** What the list needs from the host: protected names, the kernel's paths, mount points (nsjail), the proxy's directory, the private device nodes, the sealed directories' listings. */
export type SetupFacts = Pick<HostFacts, 'protect' | 'gitConfigs' | 'gitCredentialStores' | 'kernelPaths' | 'mountPoints' | 'network' | 'devices' | 'rootOnly' | 'sealed'>;

/** At one depth: tmpfs and sealed directories, then binds and pins, then protected names, then hidden paths, then symlinks. */
const RANK: Partial<Record<SetupOpKind, number>> = { tmpfs: 0, seal: 0, bind: 1, 'seal-bind': 1, submount: 1, pin: 1, protect: 2, placeholder: 2, 'git-config': 2, hide: 3, symlink: 4 };

export function setupOps(policy: Policy, facts: SetupFacts): SetupOp[] {
  const rules = policy.filesystem.mounts;
  const size = tmpfsSize(policy.limits);
  const sized = size === undefined ? {} : { size };
  const dev: SetupOp = { kind: 'dev', path: DEV, ...(size === undefined ? {} : { shmSize: size }), ...(facts.devices === undefined ? {} : { nodes: facts.devices.dir }) };
  const system: SetupOp[] = [{ kind: 'proc', path: PROC }, dev];
  const profile = bindSlots(byDepth(withSealed(profileOps(policy.filesystem, facts, sized), rules, facts.sealed)), facts.sealed !== undefined);
  const guard = kernelGuardOps(facts.kernelPaths, rules);
  const socket: SetupOp[] = policy.network.mode === 'filtered' && facts.network !== undefined ? [{ kind: 'socket-dir', path: SANDBOX_NET_DIR, source: facts.network.socketDir }] : [];
  const proc: SetupOp[] = procReadOnly(facts.kernelPaths, policy.network.mode === 'host') ? [{ kind: 'read-only', path: PROC }] : [];
  return [...system, ...profile, ...guard, ...readOnlyOps([...profile, ...guard]), ...proc, ...socket, { kind: 'read-only', path: ROOT }];
}

/** The profile's rules, symlinks, mounts beneath read-only binds and protected names, in the order they are found (see byDepth). */
function profileOps(fs: Policy['filesystem'], facts: SetupFacts, sized: { size?: number }): SetupOp[] {
  const rules = fs.mounts;
  const ops = ruleOps(rules, sized);
  const bound = new Set(ops.flatMap((op) => (op.kind === 'bind' ? [op.path] : [])));
  const shown = gitConfigOps(rules, facts.gitConfigs ?? [], facts.rootOnly ?? []);
  const protect = protectOps(rules, facts.protect, bound, new Set(shown.map((op) => op.path)), missingHiddenPaths(fs.skipped));
  return [...ops, ...symlinkOps(rules), ...submountOps(rules, facts.mountPoints ?? [], bound), ...protect, ...shown, ...missingHiddenOps(fs.skipped, protect), ...rootOnlyOps(rules, facts.rootOnly ?? []), ...credentialStoreOps(rules, facts.gitCredentialStores ?? [])];
}

/** Each file a git credential helper keeps tokens in that the sandbox would see, hidden whatever a rule says (a profile from a repository may show it). */
function credentialStoreOps(rules: readonly MountRule[], stores: readonly string[]): SetupOp[] {
  return stores.filter((path) => isVisible(rules, path)).map((path) => ({ kind: 'hide', path, dir: false, credentialStore: true }));
}

/**
 * Each git configuration file the sandbox can see that holds a secret, shown without it (host/git-scrub.ts). Never
 * one the list hides (a root-only entry, or inside one): its text, even without the secret, is not the command's.
 * One with other names (hard links) is refused: the copy would cover one name only.
 */
function gitConfigOps(rules: readonly MountRule[], found: readonly GitConfigFact[], rootOnly: readonly { path: string }[]): Extract<SetupOp, { kind: 'git-config' }>[] {
  const hidden = (path: string): boolean => rootOnly.some((r) => r.path === path || isWithin(path, r.path));
  const shown = found.filter((f) => isVisible(rules, f.path) && !hidden(f.path));
  const linked = shown.find((f) => f.links !== undefined && f.links > 1);
  if (linked?.links !== undefined) throw gitConfigLinked(linked.path, linked.links);
  return shown.map((f, index) => ({ kind: 'git-config', path: f.path, text: f.text, index, ...(f.unparsed === true ? { unparsed: true as const } : {}) }));
}

/**
 * A placeholder that stands where a hidden path that does not exist would be
 * made, or a directory of it (host/own-paths.ts, missingDeniedFacts), is
 * hidden as well: what a program on the host (run by root, whom its mode
 * does not stop) writes into it is not the command's to read.
 */
function missingHiddenOps(skipped: Policy['filesystem']['skipped'], protect: readonly SetupOp[]): SetupOp[] {
  const missing = missingHiddenPaths(skipped);
  return protect.flatMap((op): SetupOp[] => (op.kind === 'placeholder' && standsForHidden(op.path, missing) ? [{ kind: 'hide', path: op.path, dir: false }] : []));
}

/**
 * The operations with the sealed directories (seal.ts) in: each takes the
 * place of a view of the host's directory (a bind or a host mount's bind at
 * its path), and the mount points of the paths in it with operations of
 * their own are made in its tmpfs (a bind there no longer finds its path).
 * The sealed directories come first: among operations at one depth and
 * rank, the order found is kept. Without listings (an export), none.
 */
function withSealed(ops: readonly SetupOp[], rules: readonly MountRule[], listings: readonly SealFact[] | undefined): SetupOp[] {
  const dirs = new Set(listings === undefined ? [] : sealedDirs(rules, listings));
  if (listings === undefined || dirs.size === 0) return [...ops];
  const kept = ops.filter((op) => !(dirs.has(op.path) && (op.kind === 'bind' || op.kind === 'submount')));
  // A host mount beneath the directory is bound by its entry's bind, and made read-only on top of it.
  const own = new Set(kept.flatMap((op) => (op.kind === 'submount' ? [] : [op.path])));
  const placed = kept.map((op): SetupOp => (op.kind === 'bind' && op.exists && inSealed(dirs, op.path) ? { ...op, exists: false } : op));
  // The sealed entries' descriptors follow those of the pins, protected names and placeholders.
  const slots = kept.filter((op) => op.kind === 'pin' || op.kind === 'protect' || op.kind === 'placeholder').length;
  return [...sealOps(rules, listings, own, slots), ...placed];
}

/**
 * Each bind of a host path but `/` with its descriptor (Plan.pathFds): the slots after those of the pins, protected
 * names, placeholders and sealed entries, in the list's order. Only for a run (`run`: the host's listings were
 * taken); an export opens nothing.
 */
function bindSlots(ops: readonly SetupOp[], run: boolean): SetupOp[] {
  if (!run) return [...ops];
  let slot = ops.filter((op) => op.kind === 'pin' || op.kind === 'protect' || op.kind === 'placeholder' || op.kind === 'seal-bind').length;
  return ops.map((op) => (op.kind === 'bind' && op.path !== ROOT ? { ...op, slot: slot++ } : op));
}

/** What a run by root could read under a read-only path only as its owner (host/root-only.ts): hidden, where it is still read-only and has no rule of its own. */
function rootOnlyOps(rules: readonly MountRule[], found: readonly { path: string; dir: boolean }[]): SetupOp[] {
  const named = new Set(rules.map((r) => r.path));
  return found.flatMap((f): SetupOp[] => (named.has(f.path) || effectiveKind(rules, f.path) !== 'read' ? [] : [{ kind: 'hide', path: f.path, dir: f.dir }]));
}

/**
 * Each rule that governs its own path, in the order rules apply (parents
 * first): a bind unless a parent bind already shows the path with the same
 * access; a hidden path only where something would show it.
 */
function ruleOps(rules: readonly MountRule[], sized: { size?: number }): SetupOp[] {
  const ops: SetupOp[] = [];
  const applied: MountRule[] = [];
  for (const rule of orderRules(rules)) {
    // What shows this path from the rules applied so far (parents, weaker kinds at the same path).
    const before = governing(applied, rule.path)?.kind ?? 'none';
    applied.push(rule);
    if (governing(rules, rule.path) !== rule) continue; // a stronger rule at the same path wins
    const shown = before === 'read' || before === 'write';
    if (rule.kind === 'tmpfs') ops.push({ kind: 'tmpfs', path: rule.path, ...sized });
    else if (rule.kind === 'deny') {
      if (shown) ops.push({ kind: 'hide', path: rule.path, dir: rule.type === 'dir' });
    } else if (before !== rule.kind) {
      ops.push({ kind: 'bind', path: rule.path, readOnly: rule.kind === 'read', dir: rule.type === 'dir', exists: shown });
    }
  }
  return ops;
}

/** Symlinks named in the profile (/bin -> usr/bin) where the sandbox owns the parent directory; inside a bind the host's link is there. */
function symlinkOps(rules: readonly MountRule[]): SetupOp[] {
  return rules.flatMap((rule): SetupOp[] =>
    rule.linkFrom === undefined || rule.kind === 'deny' || effectiveKind(rules, dirname(rule.linkFrom)) !== 'none' ? [] : [{ kind: 'symlink', path: rule.linkFrom, target: rule.path }],
  );
}

/**
 * Host mounts beneath a read-only path keep their own flags in a recursive
 * bind unless each is made read-only too. One with a bind of its own is
 * read-only by that bind; one the sandbox cannot reach needs nothing.
 */
function submountOps(rules: readonly MountRule[], mountPoints: readonly string[], bound: ReadonlySet<string>): SetupOp[] {
  return [...mountPoints].sort().flatMap((path): SetupOp[] => (path === '/' || bound.has(path) || effectiveKind(rules, path) !== 'read' ? [] : [{ kind: 'submount', path }]));
}

/** Shallower paths first; at one depth by RANK; otherwise in the order found. */
function byDepth(ops: readonly SetupOp[]): SetupOp[] {
  return ops
    .map((op, i) => ({ op, i }))
    .sort((a, b) => depth(a.op.path) - depth(b.op.path) || (RANK[a.op.kind] ?? 0) - (RANK[b.op.kind] ?? 0) || a.i - b.i)
    .map(({ op }) => op);
}

/**
 * Sealed, hidden and masked directories stay writable until everything beneath them
 * is mounted (a bind inside one still needs its mount point created); /dev
 * until /dev/shm is, then read-only too (root in the sandbox could fill it).
 */
function readOnlyOps(ops: readonly SetupOp[]): SetupOp[] {
  const later = ops.flatMap((op): SetupOp[] => (((op.kind === 'hide' || op.kind === 'kernel-mask') && op.dir) || op.kind === 'seal' ? [{ kind: 'read-only', path: op.path }] : []));
  return [...later, { kind: 'read-only', path: DEV }];
}
