/**
 * Directories whose names are not UTF-8. isolate names every path it mounts
 * as text, so it can neither search such a directory for protected names nor
 * keep what is inside it read-only: a command could put a repository or an
 * `.envrc` there and have a later run rewrite it. A run whose writable paths
 * hold one the sandbox could enter is refused (fail closed), naming it.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { IsolateError } from '../errors.js';

/** A name for messages: printable ASCII as it is, every other byte as \xNN. */
export function escapedName(name: Buffer): string {
  let out = '';
  for (const byte of name) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}

const isUtf8 = (name: Buffer): boolean => Buffer.from(name.toString('utf8')).equals(name);

/** Refuse when `dir` holds a directory the sandbox could enter whose name is not UTF-8 (`decoded`: see unnamableEntries). */
export function refuseUnnamableDirs(dir: string, decoded: readonly string[], enterable: (st: Stats, path: Buffer) => boolean): void {
  const prefix = Buffer.from(dir === '/' ? '/' : `${dir}/`);
  for (const { name, st } of unnamableEntries(dir, decoded)) {
    if (!st.isDirectory() || !enterable(st, Buffer.concat([prefix, name]))) continue;
    throw new IsolateError('E_PATH_INVALID', `${dir === '/' ? '' : dir}/${escapedName(name)}: a directory whose name is not UTF-8 inside a writable path; isolate cannot search it for protected names (.git/hooks, .envrc, ...) or keep them read-only`, {
      fix: 'rename the directory to a UTF-8 name (e.g. with convmv), or remove it, or make the directory that holds it read-only in the profile',
    });
  }
}

/**
 * The entries of `dir` whose names are not UTF-8, with their lstat.
 * `decoded`: its names as a listing decoded them; the directory is listed
 * again as bytes only when one of them shows the replacement character
 * (which every undecodable name does).
 */
export function unnamableEntries(dir: string, decoded: readonly string[]): { name: Buffer; st: Stats }[] {
  if (!decoded.some((name) => name.includes('\uFFFD'))) return [];
  const prefix = Buffer.from(dir === '/' ? '/' : `${dir}/`);
  return listBytes(dir).flatMap((name) => {
    if (isUtf8(name)) return [];
    const st = lstatSync(Buffer.concat([prefix, name]), { throwIfNoEntry: false });
    return st === undefined ? [] : [{ name, st }];
  });
}

function listBytes(dir: string): Buffer[] {
  try {
    return readdirSync(dir, { encoding: 'buffer' });
  } catch {
    return []; // gone since the listing: nothing in it to refuse
  }
}
