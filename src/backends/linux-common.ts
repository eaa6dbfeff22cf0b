/**
 * What the Linux namespace backends (bubblewrap, nsjail) share: the checks
 * that user namespaces are usable, the filtered network's forwarder, and the
 * parts of a plan that do not depend on the backend. Pure, like plan().
 */
import { requireArgumentSizes } from './arg-limits.js';
import { IsolateError, requireCommand } from '../errors.js';
import { BYPASS_VARIABLES, PROXY_PORT, PROXY_URL, SANDBOX_SOCKET, caEnvironment, forwarderScript, proxyEnvironment } from './forwarder.js';
import { computeEnvironment } from '../profile/environment.js';
import type { Policy } from '../profile/types.js';
import { pickCommand, reachable } from './command.js';
import { governing, isVisible } from './mounts.js';
import { describeKernelGuard } from './kernel-guard.js';
import { skippedNotes, type SetupPlan } from './setup-plan.js';
import type { HostFacts, Plan, PlanSummary, ProxyService } from './types.js';

/** A Linux backend anywhere else is refused, pointing macOS users at sandbox-exec. */
export function requireLinux(host: Pick<HostFacts, 'platform'>, backend: string): void {
  if (host.platform !== 'linux') {
    throw new IsolateError('E_BACKEND_UNSUPPORTED', `the ${backend} backend needs Linux; this is ${host.platform}`, {
      fix: host.platform === 'darwin' ? 'use --backend sandbox-exec (or auto) on macOS' : 'run isolate on Linux',
    });
  }
}

/** Lifts Ubuntu's AppArmor restriction on unprivileged user namespaces: what `isolate doctor` and a refused run print. */
export const APPARMOR_USERNS_FIX = 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0   (persist it in /etc/sysctl.d/)';

/** Fail closed when the kernel will not let `launcher` create the user namespace it needs. */
export function checkUserns(host: Pick<HostFacts, 'uid' | 'userns'>, launcher: { name: string; path: string }): void {
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
        detail: `isolate reads only this setting: it cannot tell whether an AppArmor profile lets ${path} create user namespaces, so such a profile alone does not make it start`,
        fix: APPARMOR_USERNS_FIX,
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


/** Where every Linux plan starts: the command, its environment, the working directory, the network and the namespaces. */
export interface LinuxPlanBase {
  /** The child's environment (with the proxy's variables in filtered mode). */
  env: Record<string, string>;
  withheld: string[];
  /** The command's program as the sandbox will find it. */
  resolved: string;
  /** filtered mode: the forwarder and the proxy service. */
  net: ReturnType<typeof filteredNetwork> | undefined;
  namespaces: string[];
  /** A run by root: isolate's private device nodes (devices.ts). */
  devices: HostFacts['devices'];
  /** Where run/ keeps the empty stand-ins of sealed entries (Plan.standIns). */
  standIns: HostFacts['standIns'];
}

export function linuxPlanBase(policy: Policy, command: readonly string[], host: HostFacts): LinuxPlanBase {
  requireCommand(command);
  const { env, withheld } = computeEnvironment(policy.environment, host.env, host.credentials);
  requireArgumentSizes(command, env);
  const rules = policy.filesystem.mounts;
  const cwdRule = governing(rules, policy.process.cwd);
  const cwdShown = isVisible(rules, policy.process.cwd) || (cwdRule?.kind === 'tmpfs' && cwdRule.path === policy.process.cwd);
  if (!cwdShown) {
    throw new IsolateError('E_PATH_INVALID', `the working directory ${policy.process.cwd} is not visible inside the sandbox`, {
      fix: `add --allow-read ${policy.process.cwd}, or run from a directory the profile exposes`,
    });
  }
  const resolved = pickCommand(host.command, rules);
  const net = policy.network.mode === 'filtered' ? filteredNetwork(policy, host) : undefined;
  if (net !== undefined) {
    for (const name of BYPASS_VARIABLES) delete env[name];
    Object.assign(env, proxyEnvironment(), (host.credentials ?? []).length > 0 ? caEnvironment() : {});
  }
  const namespaces = ['user', 'pid', 'ipc', 'uts', 'cgroup', 'mount', ...(policy.network.mode !== 'host' ? ['net'] : [])];
  return { env, withheld, resolved, net, namespaces, devices: host.devices, standIns: host.standIns };
}

/** Plan.standIns when the setup binds sealed entries; a host without the place for them is refused, never bound by path. */
function standInsFor(setup: SetupPlan, standIns: string | undefined): Pick<Plan, 'standIns'> {
  if (!setup.pathFds.some((e) => e.seal !== undefined)) return {};
  if (standIns === undefined) {
    throw new IsolateError('E_INTERNAL', 'internal error: the plan binds sealed entries and the host facts name no place for their stand-ins', {
      fix: 'report it; gather the host facts for a run (isolate run, or the API\'s run)',
    });
  }
  return { standIns };
}

/** The fields of a Linux plan that do not depend on the backend, with its summary; the backend adds its own limits, seccomp and notes. */
export function linuxPlanCommon(
  policy: Policy,
  command: readonly string[],
  base: LinuxPlanBase,
  setup: SetupPlan,
  own: { limits: string[]; seccomp: PlanSummary['seccomp']; notes?: string[] },
): Pick<Plan, 'launcherEnv' | 'childEnv' | 'withheldEnv' | 'command' | 'cwd' | 'cleanup' | 'watchHidden' | 'watchProtected' | 'services' | 'limits' | 'summary' | 'devices' | 'standIns'> {
  const { env, net } = base;
  return {
    launcherEnv: {},
    childEnv: env,
    withheldEnv: base.withheld,
    command: { program: command[0] ?? '', resolved: base.resolved, args: command.slice(1) },
    cwd: policy.process.cwd,
    cleanup: setup.cleanup,
    ...(setup.watchHidden.length === 0 ? {} : { watchHidden: setup.watchHidden }),
    ...(setup.watchProtected.length === 0 ? {} : { watchProtected: setup.watchProtected }),
    services: net === undefined ? [] : [net.service],
    limits: policy.limits,
    ...(base.devices === undefined ? {} : { devices: base.devices }),
    ...standInsFor(setup, base.standIns),
    summary: {
      ...setup.summary,
      network: policy.network.mode,
      ...(net === undefined
        ? {}
        : {
            proxy: {
              allow: [...policy.network.allow],
              deny: [...policy.network.deny],
              listen: PROXY_URL,
              socket: `${net.service.socketPath} (inside: ${SANDBOX_SOCKET})`,
            },
          }),
      env: Object.keys(env).sort(),
      limits: own.limits,
      seccomp: own.seccomp,
      namespaces: base.namespaces,
      notes: [...setup.summary.notes, ...pinnedNote(setup.ops), ...skippedNotes(policy.filesystem.skipped, setup.ops), ...describeKernelGuard(setup.ops), ...(own.notes ?? [])],
    },
  };
}

/** The pinned directories (setup-ops.ts, `pin`), for the reader of a Linux plan. */
function pinnedNote(ops: SetupPlan['ops']): string[] {
  const pins = ops.flatMap((op) => (op.kind === 'pin' ? [op.path] : []));
  return pins.length === 0 ? [] : [`kept in place, so protected names and hidden paths cannot be moved away (each bound onto itself: it cannot be renamed or removed; its contents stay writable): ${pins.join(', ')}`];
}
