/**
 * A profile is policy data that may come from a repository. A setting that
 * makes isolate itself act on the host (write the audit log somewhere, and
 * later read a credential file or run a command for a token) is taken only
 * from a profile file that is the caller's own and that nobody else can
 * write: a file someone else controls could otherwise point isolate at any
 * file the caller can write.
 */
import { statSync } from 'node:fs';
import { IsolateError, errnoCode } from '../errors.js';
import type { ProfileDoc } from './types.js';

/** The keys of a profile document that make isolate act on the host, as key paths. */
export function hostActingKeys(doc: ProfileDoc): string[] {
  return doc.audit?.log === undefined ? [] : ['audit.log'];
}

/** Throw unless `file` may set `keys`: owned by this user (or root, for a file root keeps), and writable by no one else. */
export function checkTrusted(file: string, keys: readonly string[]): void {
  if (keys.length === 0) return;
  let st;
  try {
    st = statSync(file);
  } catch (e: unknown) {
    throw new IsolateError('E_PROFILE_INVALID', `${file}: cannot check who owns this profile: ${errnoCode(e) ?? String(e)}`, { cause: e });
  }
  const uid = process.getuid?.() ?? st.uid;
  const owner = st.uid === uid || st.uid === 0;
  const othersWrite = (st.mode & 0o022) !== 0;
  if (owner && !othersWrite) return;
  throw new IsolateError('E_PROFILE_INVALID', `${file}: ${keys.join(', ')} make isolate act on the host, and this profile is ${owner ? 'writable by others' : 'not yours'}`, {
    detail: `owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}`,
    fix: `use a profile you own that only you can write (chmod go-w ${file}), or drop ${keys.join(', ')} from it`,
  });
}
