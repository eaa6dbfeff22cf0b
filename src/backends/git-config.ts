/**
 * Git configuration shown without its secrets (setup-ops.ts, `git-config`):
 * what a backend that cannot show a file other than the host's says instead
 * of running, and what every backend says of such a file with other names.
 * Pure.
 */
import { IsolateError } from '../errors.js';

/** The refusal of a backend (`backend`) that can only show `path` as the host has it, credential and all. */
export function gitConfigUnsupported(path: string, backend: string): IsolateError {
  return new IsolateError('E_BACKEND_UNSUPPORTED', `${path} holds a credential (a token in an extraHeader or in a remote's URL), which the sandbox must not read, and ${backend} cannot show the file without it; the command was not run`, {
    fix: 'use --backend bwrap or --backend oci, which show the file without its credentials; or keep the credential out of the repository (actions/checkout: persist-credentials: false; a credential helper instead of a token in the URL)',
  });
}

/**
 * The refusal of every backend for a file that holds a credential and has other names (hard links): the copy covers
 * one name, and the command could read the file, credential and all, by another. Where those names are cannot be
 * known without searching every file system.
 */
export function gitConfigLinked(path: string, links: number): IsolateError {
  const others = links - 1;
  return new IsolateError('E_PATH_INVALID', `${path} holds a credential and has ${String(others)} other name${others > 1 ? 's' : ''} (hard links): isolate shows the sandbox a copy without the credential at this name only, and the command could read the file by another; the command was not run`, {
    fix: `find them (find / -xdev -samefile ${path}) and remove them, or give this name a file of its own (cp -p ${path} ${path}.new && mv ${path}.new ${path}, as git config does when it writes)`,
  });
}

/** The refusal of a backend (`backend`) that cannot hide a file the profile shows: a git credential helper's store of tokens. */
export function gitCredentialStoreUnsupported(path: string, backend: string): IsolateError {
  return new IsolateError('E_BACKEND_UNSUPPORTED', `${path} is where a git credential helper (store) keeps tokens, which the sandbox must not read, and ${backend} cannot hide a file the profile shows; the command was not run`, {
    fix: `hide it in the profile (filesystem.deny: [${path}]), or use a credential helper that keeps no file of tokens (osxkeychain)`,
  });
}

/** The note explain and the run report give for such a file. */
export function gitConfigNote(path: string, unparsed: boolean): string {
  return unparsed
    ? `${path}: git configuration isolate could not read with certainty for credentials: shown empty, read-only (the file on the host is unchanged)`
    : `${path}: git configuration with a credential in it: shown without it (extraHeader, keys named as a password or token, credential user names and helpers that name a secret, the userinfo of URLs), read-only (the file on the host is unchanged)`;
}
