/**
 * What the setup operations (setup-ops.ts) ask of run/ (the descriptors to
 * open, the placeholders to remove afterwards) and what they mean to the
 * person reading a plan (the summary explain and the run report show). The
 * same for every backend. Pure.
 */
import type { MountRule, Policy } from '../profile/types.js';
import { governing, isWithin, isWritable, orderRules, type ProtectOp } from './mounts.js';
import { inSealed, requireListings } from './seal.js';
import { setupOps, type SetupFacts, type SetupOp } from './setup-ops.js';
import { gitConfigNote } from './git-config.js';
import type { Cleanup, Plan, PlanSummary, SealFact } from './types.js';

export type MountSummary = Pick<PlanSummary, 'readable' | 'writable' | 'hidden' | 'tmpfs' | 'protected' | 'placeholders' | 'protectedWhy' | 'notes'>;
export type PathFd = NonNullable<Plan['pathFds']>[number];

/** The list with what it asks of run/ and its summary. */
export interface SetupPlan {
  ops: SetupOp[];
  /** Pins, protected names and placeholders, from descriptor `firstPathFd` on. */
  pathFds: PathFd[];
  cleanup: Cleanup[];
  /** Plan.watchHidden. */
  watchHidden: string[];
  /** Plan.watchProtected. */
  watchProtected: string[];
  summary: MountSummary;
}

export function planSetup(policy: Policy, facts: SetupFacts, firstPathFd: number): SetupPlan {
  requireListings(policy.filesystem.mounts, facts.sealed);
  const ops = setupOps(policy, facts);
  const shown = uncoverableGitConfigs(policy.filesystem.mounts, ops);
  return { ops, pathFds: pathFdsOf(ops, firstPathFd), cleanup: placeholderCleanup(ops), watchHidden: [...uncoverable(ops), ...shown.hidden], watchProtected: shown.protected, summary: describeSetup(policy, ops, facts.sealed) };
}

/**
 * Git configuration shown without its credentials on a host file's own path (not in a sealed directory): a host
 * program replacing the file lifts that mount, and the sandbox would see the new file, credential and all, and in a
 * writable path could write it. Watched as protected names there, as hidden paths elsewhere.
 */
export function uncoverableGitConfigs(rules: readonly MountRule[], ops: readonly SetupOp[]): { protected: string[]; hidden: string[] } {
  const sealed = new Set(ops.flatMap((op) => (op.kind === 'seal' ? [op.path] : [])));
  const paths = ops.flatMap((op) => (op.kind === 'git-config' && !inSealed(sealed, op.path) ? [op.path] : []));
  return { protected: paths.filter((p) => isWritable(rules, p)), hidden: paths.filter((p) => !isWritable(rules, p)) };
}

/**
 * Hidden paths covered on a host directory's entry (not in a sealed directory), and the sealed directories that are
 * such entries: a host program replacing one, or moving the directory away and making another, uncovers it.
 */
export function uncoverable(ops: readonly SetupOp[]): string[] {
  const sealed = new Set(ops.flatMap((op) => (op.kind === 'seal' ? [op.path] : [])));
  return ops.flatMap((op) => ((op.kind === 'hide' || op.kind === 'seal') && !inSealed(sealed, op.path) ? [op.path] : []));
}

/** Pins, protected names and placeholders in Plan.pathFds order. */
function bySlot(ops: readonly SetupOp[]): ProtectOp[] {
  return ops.filter((op): op is ProtectOp => op.kind === 'pin' || op.kind === 'protect' || op.kind === 'placeholder').sort((a, b) => a.slot - b.slot);
}

/** The sealed directories' bound entries, in Plan.pathFds order (after the pins, protected names and placeholders). */
function sealedBySlot(ops: readonly SetupOp[]): Extract<SetupOp, { kind: 'seal-bind' }>[] {
  return ops.filter((op): op is Extract<SetupOp, { kind: 'seal-bind' }> => op.kind === 'seal-bind').sort((a, b) => a.slot - b.slot);
}

/** The binds of host paths with a descriptor (setup-ops.ts, bindSlots), in Plan.pathFds order (last). */
function bindsBySlot(ops: readonly SetupOp[]): (Extract<SetupOp, { kind: 'bind' }> & { slot: number })[] {
  return ops.filter((op): op is Extract<SetupOp, { kind: 'bind' }> & { slot: number } => op.kind === 'bind' && op.slot !== undefined).sort((a, b) => a.slot - b.slot);
}

/** The placeholders the list also hides: those where a hidden path that does not exist would be made (setup-ops.ts, missingHiddenOps). */
function hiddenPlaceholders(ops: readonly SetupOp[]): Set<string> {
  const hidden = new Set(ops.flatMap((op) => (op.kind === 'hide' ? [op.path] : [])));
  return new Set(ops.flatMap((op) => (op.kind === 'placeholder' && hidden.has(op.path) ? [op.path] : [])));
}

/**
 * The descriptors run/ opens without following symlinks (creating the placeholders first): entry `slot` on
 * `firstFd + slot`; then the sealed directories' entries, each with the type it was listed as; the profile's binds last.
 */
export function pathFdsOf(ops: readonly SetupOp[], firstFd: number): PathFd[] {
  const hidden = hiddenPlaceholders(ops);
  const named = bySlot(ops).map((op) => ({ fd: firstFd + op.slot, path: op.path, readOnly: op.kind !== 'pin', ...(op.kind === 'placeholder' ? { create: true, ...(op.dir === true ? { dir: true as const } : {}), ...(hidden.has(op.path) ? { hidden: true } : {}) } : {}) }));
  const sealed = sealedBySlot(ops).map((op) => ({ fd: firstFd + op.slot, path: op.path, readOnly: true, seal: op.type }));
  return [...named, ...sealed, ...bindsBySlot(ops).map((op) => ({ fd: firstFd + op.slot, path: op.path, readOnly: op.readOnly, bind: true as const }))];
}

export function placeholderCleanup(ops: readonly SetupOp[]): Cleanup[] {
  return bySlot(ops).flatMap((op) => (op.kind === 'placeholder' ? [{ removeIfPlaceholder: op.path }] : []));
}

/** Every protected name inside a writable root, existing or not. */
export function protectedNames(ops: readonly SetupOp[]): string[] {
  return bySlot(ops).flatMap((op) => (op.kind === 'pin' ? [] : [op.path]));
}

/**
 * A note for each path the profile's rules named and resolution skipped; a
 * hidden path that does not exist, kept from being made by a placeholder
 * (setup-ops.ts), says where that placeholder is instead.
 */
export function skippedNotes(skipped: Policy['filesystem']['skipped'], ops: readonly SetupOp[]): string[] {
  const placeheld = [...hiddenPlaceholders(ops)];
  return skipped.flatMap((s) => {
    const at = placeheld.find((p) => p === s.path || isWithin(s.path, p));
    if (at === undefined) return [`${s.path}: skipped (${s.reason})`];
    return at === s.path ? [] : [`${s.path}: hidden, and does not exist: the placeholder ${at} keeps it from being made during the run`];
  });
}

/** Why a path no rule names is hidden: a placeholder where a hidden path that does not exist would be made (setup-ops.ts), or a root-only entry. */
function hiddenNote(path: string, placeheld: ReadonlySet<string>): string {
  if (placeheld.has(path)) return `${path}: hidden, and does not exist: its placeholder keeps it from being made during the run, by the command or a program on the host`;
  return `${path}: hidden, only root may read it and the command runs as root (its owner, to the kernel)`;
}

/** Why each protected path or placeholder of `ops` that the policy (profile/path-dirs.ts) or the host's facts (a file with other names) give a reason for is there, or nothing; a directory kept whole for such a reason has a note instead. */
function protectedWhy(policy: Policy, ops: readonly SetupOp[]): Pick<MountSummary, 'protectedWhy'> {
  const reasons = new Map((policy.filesystem.protectWhy ?? []).map((r) => [r.path, r.why]));
  const why = ops.flatMap((op) => (op.kind === 'protect' || op.kind === 'placeholder' ? [[op.path, reasons.get(op.path) ?? (op.kind === 'protect' && !op.dir ? op.why : undefined)] as const] : []));
  const known = why.filter((w): w is readonly [string, string] => w[1] !== undefined);
  return known.length === 0 ? {} : { protectedWhy: Object.fromEntries(known) };
}

/** The paths as the profile's rules show them, and what the list hides, protects and notes (`listings`: the host's listings of the directories to seal). */
export function describeSetup(policy: Policy, ops: readonly SetupOp[], listings: readonly SealFact[] = []): MountSummary {
  const absent = new Set(listings.flatMap((l) => (l.absent === true ? [l.path] : [])));
  const rules = policy.filesystem.mounts;
  const own = orderRules(rules).filter((r) => governing(rules, r.path) === r);
  const paths = (kind: SetupOp['kind']): string[] => ops.filter((op) => op.kind === kind).map((op) => op.path);
  const hidden = paths('hide');
  const named = bySlot(ops);
  const placeheld = hiddenPlaceholders(ops);
  return {
    readable: own.filter((r) => r.kind === 'read').map((r) => r.path),
    writable: own.filter((r) => r.kind === 'write').map((r) => r.path),
    hidden,
    tmpfs: paths('tmpfs'),
    protected: [...named.filter((op) => op.kind === 'protect').map((op) => op.path), ...paths('git-config')],
    placeholders: named.filter((op) => op.kind === 'placeholder').map((op) => op.path),
    ...protectedWhy(policy, ops),
    notes: [
      ...own.filter((r) => r.kind === 'deny' && !hidden.includes(r.path)).map((r) => `${r.path}: not visible anyway, nothing to hide`),
      ...paths('seal').map((path) => `${path}: sealed, as it ${absent.has(path) ? 'is the nearest directory above a hidden path that does not exist yet' : 'held a hidden path'}: its entries as listed at the start, each read-only (one the host replaces or adds during the run is not seen; one a host program removes or replaces with a link or another type between the listing and the start is shown empty)`),
      ...listings.flatMap((l) => (l.keep === undefined ? [] : [`${l.path}: not sealed (${l.keep}): its hidden paths are watched during the run, and one a program replaces stops the sandbox`])),
      ...paths('submount')
        .sort()
        .map((path) => `${path}: a mount inside a read-only path, made read-only too`),
      ...ops.flatMap((op) => (op.kind === 'hide' && !rules.some((r) => r.path === op.path) ? [hiddenNote(op.path, placeheld)] : [])),
      ...ops.flatMap((op) => (op.kind === 'git-config' ? [gitConfigNote(op.path, op.unparsed === true)] : [])),
      ...named.flatMap((op) => (op.kind === 'protect' && op.dir && op.why !== undefined ? [`${op.path}: ${op.why}`] : [])),
      ...named.flatMap((op) => (op.kind === 'placeholder' && op.dir === true ? [`${op.path}: does not exist; its placeholder is an empty read-only directory, which git takes for no repository (it goes on to the one above) and in which nothing can be made`] : [])),
      ...ops.flatMap((op) => (op.kind === 'dev' && op.nodes !== undefined ? [`${op.path}: its device nodes are isolate's copies in ${op.nodes}, owned by nobody: the command cannot change the host's`] : [])),
    ],
  };
}
