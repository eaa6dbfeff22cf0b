/**
 * A file the profile hides must have no other name. Hiding covers a path:
 * a hard link to the same file elsewhere (`ln .env notes.txt`, made by an
 * earlier run before the secret was written into `.env`, or by a tool) would
 * show the command the very contents the rule hides. Where that other name
 * is cannot be known without searching every file system, so a hidden file
 * with more than one name is refused (exit 125).
 */
import { IsolateError } from '../errors.js';
import type { MountRule } from './types.js';

/** Throw when `rule` hides a file that has other names; `links` gives a file's number of names (st_nlink); `from` names the rule's source. */
export function checkHiddenFileUnlinked(rule: MountRule, links: (path: string) => number, from: string): void {
  if (rule.kind !== 'deny' || rule.type !== 'file') return;
  const count = links(rule.path);
  if (count <= 1) return;
  throw new IsolateError('E_PATH_INVALID', `${from}: the hidden file ${rule.path} has ${String(count - 1)} other name${count > 2 ? 's' : ''} (hard links), through which the command could read it`, {
    fix: `find them (find / -xdev -samefile ${rule.path}) and remove them`,
  });
}
