/** Host facts: the system's own program directories, and the first program of a name in them. */
import { join } from 'node:path';
import { mayExecute } from './access-x.js';

/** The system's program directories, in the order a login shell's PATH has them. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The first executable `name` in the system directories. */
export function findSystemProgram(name: string): string | undefined {
  for (const dir of SYSTEM_PATH.split(':')) {
    const candidate = join(dir, name);
    if (mayExecute(candidate)) return candidate;
  }
  return undefined;
}
