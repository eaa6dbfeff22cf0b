/**
 * A profile is policy data that may come from a repository. A setting that
 * makes isolate itself act on the host (write the audit log somewhere, and
 * later read a credential file or run a command for a token) is taken only
 * from a profile file that is the caller's own and that nobody else can
 * write: a file someone else controls could otherwise point isolate at any
 * file the caller can write. A setting that keeps a run out of the caller's
 * audit log is said on every run unless it is one of the caller's own
 * profiles (auditNotices).
 */
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { openAncestor } from '../ancestors.js';
import { IsolateError } from '../errors.js';
import { isWithin } from './mount-rules.js';
import { isolateConfigDir, isolateStateDir } from './own-paths.js';
import type { FileOwner } from './parse.js';
import type { MergedProfile, ProfileDoc } from './types.js';

/** The keys of a profile document that make isolate act on the host, as key paths. */
export function hostActingKeys(doc: ProfileDoc): string[] {
  const keys = doc.audit?.log === undefined ? [] : ['audit.log'];
  if (doc.network?.upstreamCa !== undefined) keys.push('network.upstreamCa');
  (doc.credentials ?? []).forEach((c, i) => {
    if (!('env' in c.from)) keys.push(`credentials[${i}].from`);
  });
  return keys;
}

/**
 * Throw unless `file` may set `keys`: owned by this user (or root, for a
 * file root keeps), and writable by no one else. `st` is the owner of the
 * file the profile's text was read from (parse.ts), never a second look at
 * the path.
 */
export function checkTrusted(file: string, keys: readonly string[], st: FileOwner): void {
  if (keys.length === 0) return;
  const uid = process.getuid?.() ?? st.uid;
  const owner = st.uid === uid || st.uid === 0;
  const othersWrite = (st.mode & 0o022) !== 0;
  if (owner && !othersWrite) return;
  throw new IsolateError('E_PROFILE_INVALID', `${file}: ${keys.join(', ')} make isolate act on the host, and this profile is ${owner ? 'writable by others' : 'not yours'}`, {
    detail: `owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}`,
    fix: `use a profile you own that only you can write (chmod go-w ${file}), or drop ${keys.join(', ')} from it`,
  });
}

/**
 * The profile file that set `key`, when it is not one of the caller's own (a file outside isolate's configuration
 * directory: one that came with a repository, say); undefined for a built-in profile, one of the caller's own, or a
 * key no file set.
 */
export function foreignOrigin(origins: MergedProfile['origins'], key: keyof MergedProfile['origins'], env: Readonly<Record<string, string | undefined>>): string | undefined {
  const own = isolateConfigDir(env);
  const file = origins[key]?.slice(0, -`: ${key}`.length);
  return file === undefined || file.startsWith('builtin:') || (own !== undefined && isWithin(file, realOrSame(own))) ? undefined : file;
}

/** The temporary directories, where no program looks for start-up files. */
const TEMP_DIRS: readonly string[] = ['/tmp', '/var/tmp'];

/**
 * A profile that is not one of the caller's own may send the audit log only
 * to isolate's state directory, a name in the home directory that is not
 * hidden, or a temporary directory: its records hold the words of the
 * commands run, and a shell that sourced the file would run what a `$(...)`
 * among them says. Hidden names in the home are where shells and other
 * programs keep their start-up files (`~/.bash_login`, `~/.bashrc.d/x`),
 * and elsewhere are the system's (`/etc/profile.d/*.sh`, which every login
 * shell sources, open to a run by root that a cloned repository's profile
 * configures).
 */
export function checkForeignAuditLog(log: string, origins: MergedProfile['origins'], env: Readonly<Record<string, string | undefined>>, home: string): void {
  const file = foreignOrigin(origins, 'audit.log', env);
  if (file === undefined) return;
  const under = (dir: string): boolean => isWithin(log, dir) || isWithin(log, realOrSame(dir));
  const state = isolateStateDir(env);
  if (state !== undefined && under(state)) return;
  const inHome = [home, realOrSame(home)].find((h) => h !== '/' && isWithin(log, h));
  const hidden = inHome !== undefined && log.slice(inHome.length + 1).split('/').some((part) => part.startsWith('.'));
  if (inHome !== undefined && !hidden) return;
  if (inHome === undefined && TEMP_DIRS.some(under)) return checkTempLogDir(log, file);
  const own = isolateConfigDir(env);
  const where = inHome === undefined ? 'outside your home directory and the temporary directories, where the system keeps start-up files (/etc/profile.d)' : 'a hidden name in your home directory, where programs keep their start-up files';
  throw new IsolateError('E_PROFILE_INVALID', `${file}: audit.log ${log} is ${where}, and this profile is not one of your own${own === undefined ? '' : ` (${own})`}: a shell that sourced the log would run the commands' words`, {
    fix: `choose the log for this run with --audit-log, or keep the profile in ${own ?? 'your configuration directory'}/profiles, or drop audit.log from it (the default log is ${state ?? '$XDG_STATE_HOME/isolate/audit.jsonl'})`,
  });
}

/**
 * A log in a temporary directory is reached through directories only the
 * caller or root can change (sticky /tmp is fine): one another user owns,
 * or could make first, could be swapped for a link to a directory of the
 * caller's (/etc/profile.d, the home) while the command runs, and the
 * run's record, written at its end, would land there.
 */
function checkTempLogDir(log: string, file: string): void {
  const dir = dirname(log);
  let why: string | undefined;
  try {
    why = openAncestor(realpathSync(dir), [process.getuid?.() ?? 0, 0]);
  } catch {
    why = `${dir} does not exist, and another user could make it first`;
  }
  if (why === undefined) return;
  throw new IsolateError('E_PROFILE_INVALID', `${file}: audit.log ${log} is in a temporary directory another user can change (${why}), and this profile is not one of your own: the run's record could be sent elsewhere`, {
    fix: `choose the log for this run with --audit-log, or make ${dir} a directory of your own that only you can write, or drop audit.log from the profile`,
  });
}

/** The caller's own choice about the audit log for one run (--no-audit, --audit-log, the API's audit option). */
export interface AuditOverride {
  enabled?: boolean | undefined;
  log?: string | undefined;
}

/**
 * Warnings for a profile that keeps a run out of the caller's audit log
 * (audit.enabled: false, or audit.log elsewhere) when that setting comes
 * from a file outside the caller's own configuration directory: such a
 * profile may come with the repository being run, and recording must not
 * stop without a word. None when the caller chose for this run, or for a
 * built-in profile or one of the caller's own.
 */
export function auditNotices(profile: Pick<MergedProfile, 'audit' | 'origins'>, choice: AuditOverride | undefined, env: Readonly<Record<string, string | undefined>>): string[] {
  const own = isolateConfigDir(env);
  const foreign = (key: 'audit.enabled' | 'audit.log'): string | undefined => foreignOrigin(profile.origins, key, env);
  const where = own === undefined ? 'your own profiles' : `your own profiles (${own})`;
  if ((choice?.enabled ?? profile.audit.enabled) === false) {
    const file = choice?.enabled === undefined ? foreign('audit.enabled') : undefined;
    return file === undefined ? [] : [`the audit log is off: ${file} sets audit.enabled: false, and it is not one of ${where}; a profile that comes with a repository can turn recording off (to keep the setting without this warning, make the profile one of yours)`];
  }
  const file = choice?.log === undefined ? foreign('audit.log') : undefined;
  if (file === undefined || profile.audit.log === undefined) return [];
  return [`runs are recorded in ${profile.audit.log}, not in your audit log: ${file} sets audit.log, and it is not one of ${where} (to keep the setting without this warning, make the profile one of yours)`];
}

/** The real path of `path`, or `path` when it does not exist. */
function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
