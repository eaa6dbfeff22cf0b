/** Whether this process may execute the file, or search the directory, at `path` (access(2) with X_OK: its own credentials and ACLs). */
import { accessSync, constants } from 'node:fs';

export function mayExecute(path: string | Buffer): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
