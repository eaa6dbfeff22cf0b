/**
 * Host facts: the home a login of the user running isolate starts in, as
 * the password database gives it, whatever HOME says (an assistant's own
 * HOME, `sudo -E`). The ~/.profile of Debian and Ubuntu, read at that login,
 * puts its `bin` on PATH (profile/path-dirs.ts).
 */
import { userInfo } from 'node:os';
import { isAbsolute } from 'node:path';

/** The password database's home of the user running isolate, or undefined when it has none (a container's made-up uid). */
export function loginHome(): string | undefined {
  try {
    const home = userInfo().homedir;
    return isAbsolute(home) ? home : undefined;
  } catch {
    return undefined;
  }
}
