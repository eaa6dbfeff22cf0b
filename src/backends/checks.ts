/**
 * Host checks behind `isolate doctor`. Each check says what it found and,
 * when something is wrong, the exact fix.
 */
import { existsSync, readFileSync, accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsolateError } from '../errors.js';
import { run } from '../index.js';
import { BWRAP_MIN_VERSION, checkBwrapHost, compareVersions } from './bwrap.js';
import { bwrapFacts, findSystemProgram, nsjailFacts, usernsFacts } from '../host/facts.js';
import type { HostFacts } from './types.js';
import { cgroupFacts } from '../host/cgroup.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function containerHint(): string | undefined {
  if (existsSync('/.dockerenv')) return 'Docker (/.dockerenv)';
  if (existsSync('/run/.containerenv')) return 'Podman (/run/.containerenv)';
  const cg = read('/proc/1/cgroup') ?? '';
  if (/docker|kubepods|containerd|lxc|libpod/.test(cg)) return 'a container (/proc/1/cgroup)';
  const env1 = read('/proc/1/environ');
  if (env1 !== undefined && /(^|\0)container=/.test(env1)) return 'a container (container= in /proc/1/environ)';
  return undefined;
}

function cgroupCheck(uid: number): Check {
  const facts = cgroupFacts({ memory: true, pids: true }, uid);
  if (facts.version === undefined) {
    return {
      name: 'cgroup limits',
      status: 'warn',
      detail: `not available: ${facts.unusable?.reason ?? 'unknown'}. Memory and process limits are per-process rlimits only, and a profile with limits.enforce: cgroup is refused`,
      fix: facts.unusable?.fix ?? '',
    };
  }
  const where = facts.parents?.memory === facts.parents?.pids ? facts.parents?.memory : `${facts.parents?.memory} and ${facts.parents?.pids}`;
  return {
    name: 'cgroup limits',
    status: 'ok',
    detail: `active: memory and process limits are also enforced for the whole sandbox by a cgroup v${facts.version} created in ${where ?? '?'}${uid === 0 ? ' (as root)' : ' (delegated)'}`,
  };
}

export async function runChecks(env: Readonly<Record<string, string | undefined>>): Promise<Check[]> {
  const checks: Check[] = [];
  const uid = process.getuid?.() ?? -1;
  const bwrap = bwrapFacts(env);
  if (bwrap === undefined) {
    checks.push({ name: 'bubblewrap', status: 'fail', detail: 'bwrap not found', fix: 'sudo apt-get install -y bubblewrap' });
  } else if (compareVersions(bwrap.version, BWRAP_MIN_VERSION) < 0) {
    checks.push({
      name: 'bubblewrap',
      status: 'fail',
      detail: `${bwrap.path} is version ${bwrap.version}; ${BWRAP_MIN_VERSION} or newer is needed`,
      fix: 'install bubblewrap 0.8.0 or newer (Debian 12, Ubuntu 24.04 and later ship it)',
    });
  } else {
    checks.push({ name: 'bubblewrap', status: 'ok', detail: `${bwrap.path} version ${bwrap.version}` });
  }

  const u = usernsFacts();
  const hostLike = { platform: process.platform, uid, bwrap, userns: u } as unknown as HostFacts;
  try {
    if (bwrap !== undefined) checkBwrapHost(hostLike);
    checks.push({
      name: 'user namespace settings',
      status: 'ok',
      detail: `max_user_namespaces=${u.maxUserNamespaces ?? '?'}${u.unprivilegedClone === undefined ? '' : `, unprivileged_userns_clone=${u.unprivilegedClone}`}`,
    });
  } catch (e: unknown) {
    if (!(e instanceof IsolateError)) throw e;
    if (e.code === 'E_USERNS_UNAVAILABLE') checks.push({ name: 'user namespace settings', status: 'fail', detail: e.message, ...(e.fix ? { fix: e.fix } : {}) });
  }

  const aa = u.apparmorRestrict;
  checks.push(
    aa === undefined
      ? { name: 'AppArmor user namespace restriction', status: 'ok', detail: 'not present on this kernel' }
      : aa === 0 || uid === 0
        ? { name: 'AppArmor user namespace restriction', status: 'ok', detail: `kernel.apparmor_restrict_unprivileged_userns=${aa}${uid === 0 ? ' (root is not restricted)' : ''}` }
        : {
            name: 'AppArmor user namespace restriction',
            status: 'fail',
            detail: 'kernel.apparmor_restrict_unprivileged_userns=1: bwrap needs an AppArmor profile that allows userns',
            fix: 'see `isolate run` error text for the profile to install, or: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
          },
  );

  // The real test: a sandbox with the default profile.
  if (bwrap !== undefined) {
    // In a fresh empty directory: the check must not depend on what else is in /tmp.
    const dir = mkdtempSync(join(tmpdir(), 'isolate-doctor-'));
    let report;
    try {
      report = await run(['true'], { profile: 'default', callerEnv: { PATH: '/usr/bin:/bin' }, callerCwd: dir, cwd: dir, audit: { enabled: false } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    checks.push(
      report.exitCode === 0
        ? { name: 'sandbox with the default profile', status: 'ok', detail: 'started and ran `true` (user, pid, ipc, uts, cgroup, net, mount namespaces)' }
        : {
            name: 'sandbox with the default profile',
            status: 'fail',
            detail: `exit ${report.exitCode}: ${report.error?.summary ?? ''} ${(report.stderr ?? '').trim()}`.trim(),
            fix: report.error?.fix ?? 'see the message above; if running inside a container, it must allow user namespaces (e.g. docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined)',
          },
    );
  }

  const nsjail = nsjailFacts(env);
  checks.push(
    nsjail === undefined
      ? {
          name: 'nsjail (optional backend)',
          status: 'ok',
          detail: 'not installed; --backend nsjail would be refused. To use it, build nsjail from source (README, "Installing nsjail") and put it on PATH or in ISOLATE_NSJAIL',
        }
      : { name: 'nsjail (optional backend)', status: 'ok', detail: `${nsjail.path} version ${nsjail.version}` },
  );

  const socat = findSystemProgram('socat');
  checks.push(
    socat === undefined
      ? {
          name: 'network forwarder (socat)',
          status: 'warn',
          detail: 'socat is not installed: runs with network mode filtered (--allow-domain) will be refused',
          fix: 'sudo apt-get install -y socat',
        }
      : { name: 'network forwarder (socat)', status: 'ok', detail: `${socat} (used by network mode filtered)` },
  );

  const status = read('/proc/self/status') ?? '';
  const seccompActions = read('/proc/sys/kernel/seccomp/actions_avail');
  checks.push(
    /^Seccomp:/m.test(status) && seccompActions !== undefined
      ? { name: 'seccomp', status: 'ok', detail: `available (actions: ${seccompActions.trim()})` }
      : { name: 'seccomp', status: 'warn', detail: 'seccomp filtering is not available in this kernel', fix: 'use a kernel built with CONFIG_SECCOMP_FILTER=y' },
  );

  const prlimit = findSystemProgram('prlimit');
  checks.push(
    prlimit === undefined
      ? { name: 'resource limits', status: 'fail', detail: 'prlimit (util-linux) is missing: isolate applies every rlimit, and turns core dumps off, with it', fix: 'sudo apt-get install -y util-linux' }
      : {
          name: 'resource limits',
          status: 'ok',
          detail: `rlimits, applied inside the sandbox by ${prlimit}${uid === 0 ? '; as root RLIMIT_NPROC does not apply (the kernel exempts uid 0): a process limit needs the cgroup, and is refused without one' : ''}; memory and process limits also through a cgroup where one is usable (see "cgroup limits")`,
        },
  );
  checks.push(cgroupCheck(uid));

  const container = containerHint();
  checks.push(
    container === undefined
      ? { name: 'container', status: 'ok', detail: 'not running inside a container' }
      : {
          name: 'container',
          status: 'warn',
          detail: `running inside ${container}: the sandbox nests inside it and needs user namespaces allowed by the container runtime`,
          fix: 'if the sandbox check fails, start the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined (or --privileged)',
        },
  );
  return checks;
}
