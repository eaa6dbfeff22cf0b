/**
 * The kernel's own filesystems are the sandbox's, never the host's: every
 * backend mounts a fresh /proc (of the sandbox's PID namespace) and a
 * minimal /dev of its own. A profile rule that made the host's /proc or /dev
 * visible would undo that (the host's processes, their environments, raw
 * disks), and a writable /sys lets root reprogram the host kernel
 * (/sys/kernel/uevent_helper). So such rules are refused, whatever the
 * profile or the command line asks; /sys may be made readable.
 */
import { IsolateError } from '../errors.js';
import type { MountKind } from './types.js';
import { isWithin } from './mount-rules.js';

/** Mounted fresh by every backend: no rule may expose the host's. */
export const SANDBOX_OWN_ROOTS = ['/proc', '/dev'] as const;
/** Readable at most. */
export const READ_ONLY_ROOTS = ['/sys'] as const;

/** Throw when a rule of `kind` at the real path `real` would expose or open up a kernel filesystem of the host. */
export function checkKernelPath(kind: MountKind, real: string, from: string, written: string): void {
  if (kind === 'deny') return;
  const own = SANDBOX_OWN_ROOTS.find((root) => isWithin(real, root));
  if (own !== undefined) {
    throw new IsolateError('E_PATH_INVALID', `${from}: "${written}" is in ${own}, which every sandbox mounts fresh; isolate will not expose the host's ${own}`, {
      detail: real === written ? undefined : `"${written}" resolves to ${real}`,
      fix: `remove the rule; inside the sandbox ${own} is its own (to hide a part of it, use filesystem.deny)`,
    });
  }
  const readOnly = READ_ONLY_ROOTS.find((root) => isWithin(real, root));
  if (readOnly !== undefined && kind !== 'read') {
    throw new IsolateError('E_PATH_INVALID', `${from}: "${written}" is in ${readOnly}, which isolate exposes read-only at most`, {
      detail: real === written ? undefined : `"${written}" resolves to ${real}`,
      fix: `make it readable instead (filesystem.read / --allow-read), or remove the rule`,
    });
  }
}
