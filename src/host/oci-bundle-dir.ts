/**
 * The private directory of one `--backend oci` run (its bundle and the
 * runtime's state), in isolate's runtime directory (runtime-dir.ts), which
 * no sandbox sees; and the search for those left by runs whose isolate was
 * killed (SIGKILL, a power cut), which the next oci run removes.
 *
 * The name says whose a directory is, as proxy-dir.ts's names do:
 * oci-<pid>-<start>-<pidns>-<random>. It is also the container's name for
 * the runtime, so a leftover container can be deleted by it.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { ownMarks, ownerMayRun, sweepableNames } from './proxy-dir.js';

const NAME = /^oci-([1-9][0-9]{0,9})-([0-9a-z]{1,12})-([0-9a-z]{1,12})-[0-9a-f]{8}$/;

/** A fresh name for this run's bundle directory. */
export function bundleDirName(): string {
  const { start, ns } = ownMarks();
  return `oci-${process.pid}-${start}-${ns}-${randomBytes(4).toString('hex')}`;
}

/** Whether `name` is a bundle's (and container's) name of a run made in this PID namespace by an isolate that no longer runs. */
export function staleBundleName(name: string): boolean {
  const own = ownMarks();
  const m = NAME.exec(name);
  return m !== null && own.ns !== '0' && m[3] === own.ns && !ownerMayRun(Number(m[1]), m[2] as string);
}

/**
 * The bundle directories in `base` that runs of this user left behind: the
 * name is exactly the pattern, made in this PID namespace, by an isolate
 * that no longer runs; a real directory (never a symlink), this user's,
 * mode 0700; and the base cannot be rearranged by other users.
 */
export function staleBundleDirs(base: string): string[] {
  const { uid, names } = sweepableNames(base);
  return names.flatMap((name) => {
    if (!staleBundleName(name)) return [];
    const dir = join(base, name);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    return st !== undefined && st.isDirectory() && st.uid === uid && (st.mode & 0o7777) === 0o700 ? [dir] : [];
  });
}
