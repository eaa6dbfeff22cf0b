import { errnoCode } from '../errors.js';

/** Whether a process with this number exists (EPERM: it does, and belongs to someone else). */
export function processAlive(pid: number): boolean {
  // Never 0 or negative: kill() would address a process group or every process.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return errnoCode(e) === 'EPERM';
  }
}
