/**
 * A synthetic Mac for the sandbox-exec golden plans and the SBPL tests: the
 * real resolvePolicy looks at it through MAC_DISK (/etc, /tmp and /var are
 * links into /private, as on every Mac), and darwinHost gives fixed
 * HostFacts. Nothing here reads this machine (which is not a Mac).
 */
import type { CommandFact, HostFacts } from '../../src/backends/types.js';
import type { LoadContext } from '../../src/profile/load.js';
import { resolvePolicy, type PathLookup, type PathVars } from '../../src/profile/resolve.js';
import type { MergedProfile, Policy } from '../../src/profile/types.js';
import { ancestors } from '../../src/backends/sbpl.js';
import { syntheticProtect } from './synthetic.js';

export const MAC_VARS: PathVars = { CWD: '/Users/user/project', HOME: '/Users/user', TMPDIR: '/var/folders/zz/abc123/T' };
export const MAC_CTX: LoadContext = { callerCwd: MAC_VARS.CWD, env: { HOME: MAC_VARS.HOME } };
export const RUN_DIR = '/private/var/folders/zz/abc123/T/isolate-run-4242-0123456789ab';
export const SOCKET_DIR = '/private/var/folders/zz/abc123/T/isolate-net-4242-0123456789ab';

/** macOS's own symlinks: /etc, /tmp and /var live in /private. */
const LINKS: Readonly<Record<string, string>> = { '/etc': '/private/etc', '/tmp': '/private/tmp', '/var': '/private/var' };

function realpath(path: string): string {
  for (const [link, target] of Object.entries(LINKS)) {
    if (path === link || path.startsWith(`${link}/`)) return target + path.slice(link.length);
  }
  return path;
}

/** What exists on the synthetic Mac, beyond the directories above these (everything else named by a profile does not). */
const EXISTS_DIRS = new Set(['/usr', '/private/etc', '/opt', '/bin', '/sbin', '/Users/user', '/Users/user/project', '/private/tmp', '/private/var/tmp', '/private/etc/ssh', '/private/etc/sudoers.d', '/Users/user/.ssh', '/Users/user/.docker', '/Users/user/.config/gh', '/Users/user/.aws', '/Users/user/project/deploy/keys']);
const EXISTS_FILES = new Set(['/private/etc/sudoers', '/Users/user/.zsh_history', '/Users/user/.npmrc', '/Users/user/.lesshst', '/Users/user/project/config/secret.json']);
const ABOVE = new Set([...EXISTS_DIRS, ...EXISTS_FILES].flatMap(ancestors));

/** The synthetic Mac's filesystem, as resolvePolicy looks at it. */
export const MAC_DISK: PathLookup = {
  stat(path) {
    const real = realpath(path);
    return EXISTS_DIRS.has(real) || ABOVE.has(real) ? 'dir' : EXISTS_FILES.has(real) ? 'file' : undefined;
  },
  realpath,
  isSymlink: (path) => LINKS[path] !== undefined,
};

/** The real resolvePolicy on the synthetic Mac: the built-in profiles as they are, `syscalls.preset: default` included. */
export function macPolicy(merged: MergedProfile): Policy {
  return resolvePolicy(merged, { vars: MAC_VARS, env: { HOME: MAC_VARS.HOME }, disk: MAC_DISK });
}

/** The caller's environment on the synthetic Mac, secrets included. */
export const MAC_ENV: Readonly<Record<string, string>> = {
  PATH: '/opt/homebrew/bin:/usr/bin:/bin:/usr/sbin:/sbin',
  HOME: '/Users/user',
  USER: 'user',
  LOGNAME: 'user',
  SHELL: '/bin/zsh',
  TMPDIR: '/var/folders/zz/abc123/T/',
  LANG: 'en_US.UTF-8',
  LC_CTYPE: 'UTF-8',
  LC_SESSION_TOKEN: 'synthetic-lc-secret',
  TERM: 'xterm-256color',
  COLORTERM: 'truecolor',
  NO_PROXY: 'synthetic-no-proxy.example',
  GITHUB_TOKEN: 'ghp_synthetic000000000000000000000000',
  AWS_SECRET_ACCESS_KEY: 'synthetic-aws-secret',
  SSH_AUTH_SOCK: '/private/tmp/com.apple.launchd.synthetic/Listeners',
};

/** What every Mac's facts have: Apple silicon, an ordinary user, no Linux launchers, no /proc. */
export const MAC_HOST: Pick<HostFacts, 'platform' | 'arch' | 'uid' | 'gid' | 'bwrap' | 'userns' | 'prlimit' | 'kernelPaths'> = {
  platform: 'darwin',
  arch: 'arm64',
  uid: 501,
  gid: 20,
  bwrap: undefined,
  userns: { maxUserNamespaces: undefined, unprivilegedClone: undefined, apparmorRestrict: undefined },
  prlimit: undefined,
  kernelPaths: [],
};

export function darwinHost(policy: Policy, command: CommandFact): HostFacts {
  return {
    ...MAC_HOST,
    sandboxExec: { path: '/usr/bin/sandbox-exec', runDir: RUN_DIR, version: '14.5' },
    env: MAC_ENV,
    protect: syntheticProtect(policy, MAC_VARS.CWD, MAC_DISK),
    command,
    ...(policy.network.mode === 'filtered' ? { network: { socat: undefined, shell: '/bin/sh', socketDir: SOCKET_DIR } } : {}),
  };
}
