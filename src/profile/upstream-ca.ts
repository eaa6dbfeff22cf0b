/**
 * network.upstreamCa: the PEM file the proxy trusts, besides the system's
 * roots, for a credential's host. A file the sandbox could change (it, a
 * link on the way to it, or the file it names inside a path the sandbox can
 * write: links.ts hostFileWay, the rule for every file isolate starts or
 * trusts on the host) is one the command of a run could replace with a CA of
 * its own; the next run's proxy would then trust a server the command
 * chose for the credential's host, and hand it the real value. Refused,
 * checked against the rules before the file is hidden (resolve.ts), since
 * hiding it keeps the command from reading it, not from replacing the
 * directory it is in or the link that names it.
 */
import { IsolateError } from '../errors.js';
import { hostFileWay } from './links.js';

export function checkUpstreamCa(path: string, writable: (path: string) => boolean): void {
  const way = hostFileWay(path, writable);
  if (way.open === undefined) return;
  throw new IsolateError('E_PATH_INVALID', `network.upstreamCa: ${way.shown} is inside a path the sandbox can write: the command of a run could put a CA of its own there, which the next run's proxy would trust for a credential's host`, {
    fix: 'keep the CA file outside the paths the profile makes writable (e.g. in ~/.config/isolate/), and name it by a path outside them',
  });
}
