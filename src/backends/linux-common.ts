/**
 * What the Linux namespace backends (bubblewrap, nsjail) share: the checks
 * that user namespaces are usable, and the filtered network's forwarder.
 * Pure, like plan().
 */
import { IsolateError } from '../errors.js';
import { PROXY_PORT, SANDBOX_SOCKET, forwarderScript } from '../network/forwarder.js';
import type { Policy } from '../profile/types.js';
import { reachable } from './command.js';
import type { HostFacts, ProxyService } from './types.js';

/** Fail closed when the kernel will not let `launcher` create the user namespace it needs. */
export function checkUserns(host: HostFacts, launcher: { name: string; path: string }): void {
  const u = host.userns;
  if (u.maxUserNamespaces === 0) {
    throw new IsolateError('E_USERNS_UNAVAILABLE', 'user namespaces are disabled on this host (user.max_user_namespaces = 0)', {
      fix: 'sudo sysctl -w user.max_user_namespaces=15000   (persist it in /etc/sysctl.d/)',
    });
  }
  if (host.uid !== 0 && u.unprivilegedClone === 0) {
    throw new IsolateError('E_USERNS_UNAVAILABLE', 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)', {
      fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1   (persist it in /etc/sysctl.d/)',
    });
  }
  if (host.uid !== 0 && u.apparmorRestrict === 1) {
    const { name, path } = launcher;
    throw new IsolateError(
      'E_USERNS_UNAVAILABLE',
      `AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1), so ${name} cannot create its sandbox`,
      {
        fix:
          `allow ${name} to create user namespaces with an AppArmor profile: write\n` +
          `  abi <abi/4.0>,\n  include <tunables/global>\n  profile ${name} ${path} flags=(unconfined) {\n    userns,\n  }\n` +
          `to /etc/apparmor.d/${name}, then run: sudo apparmor_parser -r /etc/apparmor.d/${name}`,
      },
    );
  }
}

/**
 * filtered: the sandbox keeps its own empty network namespace; the proxy's
 * socket directory is mounted read-only at SANDBOX_NET_DIR (by the caller,
 * in its own syntax) and a forwarder started before the command exposes it
 * on loopback.
 */
export function filteredNetwork(policy: Policy, host: HostFacts): { socketDir: string; wrapper: string[]; service: ProxyService } {
  const facts = host.network;
  const rules = policy.filesystem.mounts;
  if (facts?.socat === undefined || !reachable(rules, facts.socat)) {
    throw new IsolateError(
      'E_FORWARDER_MISSING',
      facts?.socat === undefined
        ? 'network mode filtered needs socat, which is not installed; refusing to run without the filter'
        : `network mode filtered needs socat, but ${facts.socat} is not visible inside the sandbox`,
      { fix: facts?.socat === undefined ? 'sudo apt-get install -y socat' : `add --allow-read ${facts.socat}` },
    );
  }
  if (facts.shell === undefined || !reachable(rules, facts.shell)) {
    throw new IsolateError('E_FORWARDER_MISSING', 'network mode filtered needs /bin/sh inside the sandbox to start the forwarder', {
      fix: 'make /bin/sh (and what it links to) readable in the profile',
    });
  }
  return {
    socketDir: facts.socketDir,
    wrapper: [facts.shell, '-c', forwarderScript(facts.socat), 'isolate-net'],
    service: {
      kind: 'proxy',
      socketDir: facts.socketDir,
      socketPath: `${facts.socketDir}/proxy.sock`,
      sandboxSocket: SANDBOX_SOCKET,
      port: PROXY_PORT,
      allow: [...policy.network.allow],
      deny: [...policy.network.deny],
    },
  };
}

