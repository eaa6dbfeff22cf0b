/**
 * A small tmpfs that a test mounts itself and fills up: the full-disk faults
 * of the audit log. Mounting needs root (CAP_SYS_ADMIN); tests skip with
 * `tmpfsUnavailable()`'s reason otherwise. Every mount is made in a temp
 * directory of its own and removed by `unmount()`.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** The mount point. */
  dir: string;
  /** Fill the disk with a file `fill` until no byte is left, then give back `leaveBytes` (whole pages). */
  fill(leaveBytes?: number): void;
  /** Bytes free for writing. */
  free(): number;
  /** Unmount and remove the mount point (safe to call twice). */
  unmount(): void;
}

const PAGE = 4096;

function mount(dir: string, sizeKiB: number, owner: { uid: number; gid: number }): string | undefined {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700,uid=${owner.uid},gid=${owner.gid}`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `mount -t tmpfs failed: ${(r.stderr || r.error?.message || `exit ${String(r.status)}`).trim()}`;
}

let probed: string | null | undefined;

/** Why no small tmpfs can be mounted here (a reason to print when skipping), or undefined when one can. */
export function tmpfsUnavailable(): string | undefined {
  if (probed !== undefined) return probed ?? undefined;
  if (process.getuid?.() !== 0) {
    probed = 'mounting a small tmpfs to fill up needs root';
    return probed;
  }
  const dir = mkdtempSync(join(tmpdir(), 'isolate-tmpfs-probe-'));
  const failed = mount(dir, 64, { uid: 0, gid: 0 });
  if (failed === undefined) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  probed = failed ?? null;
  return failed;
}

/** Mount a tmpfs of `sizeKiB` owned by `owner` (default: root). */
export function smallTmpfs(sizeKiB = 64, owner: { uid: number; gid: number } = { uid: 0, gid: 0 }): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'isolate-tmpfs-'));
  const failed = mount(dir, sizeKiB, owner);
  if (failed !== undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(failed);
  }
  let mounted = true;
  const free = (): number => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    fill(leaveBytes = 0): void {
      const fd = openSync(join(dir, 'fill'), 'a');
      try {
        const chunk = Buffer.alloc(PAGE);
        for (;;) {
          try {
            if (writeSync(fd, chunk) < chunk.length) break;
          } catch {
            break; // ENOSPC
          }
        }
        const size = fstatSync(fd).size;
        if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, size - Math.ceil(leaveBytes / PAGE) * PAGE));
      } finally {
        closeSync(fd);
      }
    },
    unmount(): void {
      if (!mounted) return;
      mounted = false;
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
