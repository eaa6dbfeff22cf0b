import type { MountKind, MountRule } from '../../src/profile/types.js';

/** A resolved mount rule, as resolvePolicy makes one: `linkFrom` when the profile named a symlink to `path`. */
export function rule(kind: MountKind, path: string, type: MountRule['type'] = 'dir', linkFrom?: string): MountRule {
  return { kind, path, requested: linkFrom ?? path, type, ...(linkFrom === undefined ? {} : { linkFrom }) };
}
