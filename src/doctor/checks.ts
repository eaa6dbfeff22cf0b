/**
 * Host checks behind `isolate doctor`. Each check says what it found and,
 * when something is wrong, the exact fix. The last word is a real sandbox:
 * `true` under the default profile, planned and run as `isolate run` plans
 * and runs it (sandbox-check.ts). A launcher `isolate run` would refuse
 * (launcher-gate.ts) is a failed check, and is neither read nor started.
 */
import { existsSync, readFileSync } from 'node:fs';
import { IsolateError } from '../errors.js';
import { BWRAP_MIN_VERSION, checkBwrapHost, compareVersions } from '../backends/bwrap.js';
import type { HostFacts, UsernsFacts } from '../backends/types.js';
import { APPARMOR_USERNS_FIX } from '../backends/linux-common.js';
import { bwrapFacts, findBwrap, findNsjail, findSystemProgram, nsjailFacts, usernsFacts } from '../host/facts.js';
import { cgroupFacts } from '../host/cgroup.js';
import { ociRuntimes } from '../host/oci-runtime.js';
import { launcherGate, type LauncherGate } from './launcher-gate.js';
import { sandboxCheck } from './sandbox-check.js';
import { currentDir } from '../current-dir.js';

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

/** A launcher isolate run would refuse (launcher-gate.ts): a failed check, and the binary is never read or started. */
function refusedLauncher(name: string, refused: IsolateError): Check {
  return { name, status: 'fail', detail: refused.message, ...(refused.fix === undefined ? {} : { fix: refused.fix }) };
}

function bwrapCheck(bwrap: HostFacts['bwrap']): Check {
  if (bwrap === undefined) return { name: 'bubblewrap', status: 'fail', detail: 'bwrap not found', fix: 'sudo apt-get install -y bubblewrap' };
  if (compareVersions(bwrap.version, BWRAP_MIN_VERSION) < 0) {
    return {
      name: 'bubblewrap',
      status: 'fail',
      detail: `${bwrap.path} is version ${bwrap.version}; ${BWRAP_MIN_VERSION} or newer is needed`,
      fix: 'install bubblewrap 0.8.0 or newer (Debian 12, Ubuntu 24.04 and later ship it)',
    };
  }
  return { name: 'bubblewrap', status: 'ok', detail: `${bwrap.path} version ${bwrap.version}` };
}

/** The kernel's user namespace switches, checked as a bwrap plan checks them. */
function usernsCheck(host: Pick<HostFacts, 'platform' | 'uid' | 'bwrap' | 'userns'>): Check[] {
  const u = host.userns;
  try {
    if (host.bwrap !== undefined) checkBwrapHost(host);
    return [
      {
        name: 'user namespace settings',
        status: 'ok',
        detail: `max_user_namespaces=${u.maxUserNamespaces ?? '?'}${u.unprivilegedClone === undefined ? '' : `, unprivileged_userns_clone=${u.unprivilegedClone}`}`,
      },
    ];
  } catch (e: unknown) {
    if (!(e instanceof IsolateError)) throw e;
    return e.code === 'E_USERNS_UNAVAILABLE' ? [{ name: 'user namespace settings', status: 'fail', detail: e.message, ...(e.fix ? { fix: e.fix } : {}) }] : [];
  }
}

export function apparmorCheck(u: UsernsFacts, uid: number): Check {
  const aa = u.apparmorRestrict;
  const name = 'AppArmor user namespace restriction';
  if (aa === undefined) return { name, status: 'ok', detail: 'not present on this kernel' };
  if (aa === 0 || uid === 0) return { name, status: 'ok', detail: `kernel.apparmor_restrict_unprivileged_userns=${aa}${uid === 0 ? ' (root is not restricted)' : ''}` };
  return {
    name,
    status: 'fail',
    detail: 'kernel.apparmor_restrict_unprivileged_userns=1: an ordinary user\'s bwrap or nsjail cannot create the user namespace of its sandbox, and isolate refuses to start one (Ubuntu 23.10 and later, GitHub\'s ubuntu-24.04 runners)',
    fix: APPARMOR_USERNS_FIX,
  };
}

function nsjailCheck(env: Readonly<Record<string, string | undefined>>, gate: LauncherGate): Check {
  const name = 'nsjail (optional backend)';
  const path = findNsjail(env);
  const refused = gate('nsjail', path);
  if (refused !== undefined) return refusedLauncher(name, refused);
  const nsjail = nsjailFacts(env, path);
  if (nsjail !== undefined) return { name, status: 'ok', detail: `${nsjail.path} version ${nsjail.version}` };
  return {
    name,
    status: 'ok',
    detail: 'not installed; --backend nsjail would be refused. To use it, build nsjail from source (docs/backends.md, "Installing nsjail") and put it on PATH or in ISOLATE_NSJAIL',
  };
}

function socatCheck(): Check {
  const socat = findSystemProgram('socat');
  const name = 'network forwarder (socat)';
  if (socat !== undefined) return { name, status: 'ok', detail: `${socat} (used by network mode filtered)` };
  return { name, status: 'warn', detail: 'socat is not installed: runs with network mode filtered (--allow-domain) will be refused', fix: 'sudo apt-get install -y socat' };
}

function seccompCheck(): Check {
  const status = read('/proc/self/status') ?? '';
  const actions = read('/proc/sys/kernel/seccomp/actions_avail');
  return /^Seccomp:/m.test(status) && actions !== undefined
    ? { name: 'seccomp', status: 'ok', detail: `available (actions: ${actions.trim()})` }
    : { name: 'seccomp', status: 'warn', detail: 'seccomp filtering is not available in this kernel', fix: 'use a kernel built with CONFIG_SECCOMP_FILTER=y' };
}

function prlimitCheck(uid: number): Check {
  const prlimit = findSystemProgram('prlimit');
  if (prlimit === undefined) {
    return { name: 'resource limits', status: 'fail', detail: 'prlimit (util-linux) is missing: isolate applies every rlimit, and turns core dumps off, with it', fix: 'sudo apt-get install -y util-linux' };
  }
  return {
    name: 'resource limits',
    status: 'ok',
    detail: `rlimits, applied inside the sandbox by ${prlimit}${uid === 0 ? '; as root RLIMIT_NPROC does not apply (the kernel exempts uid 0): a process limit needs the cgroup, and is refused without one' : ''}; memory and process limits also through a cgroup where one is usable (see "cgroup limits")`,
  };
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

/** Which OCI runtime `--backend oci` runs and exported bundles start with here, and why the others do not. */
function ociRuntimeCheck(): Check {
  const name = 'OCI runtime';
  const runtimes = ociRuntimes();
  const usable = runtimes.find((r) => r.refused === undefined);
  const others = runtimes.filter((r) => r !== usable).map((r) => `; ${r.name} ${r.version ?? '?'} not: ${r.refused ?? ''}`);
  if (usable !== undefined) {
    return { name, status: 'ok', detail: `${usable.path} ${usable.version ?? '?'} runs --backend oci and starts exported bundles (isolate export --format oci)${others.join('')}` };
  }
  return {
    name,
    status: 'warn',
    detail: `none that works here: --backend oci is refused, and exported bundles cannot be started (only needed for those)${others.join('')}`,
    fix: 'sudo apt-get install -y runc',
  };
}

function containerCheck(): Check {
  const container = containerHint();
  if (container === undefined) return { name: 'container', status: 'ok', detail: 'not running inside a container' };
  return {
    name: 'container',
    status: 'warn',
    detail: `running inside ${container}: the sandbox nests inside it and needs user namespaces allowed by the container runtime`,
    fix: 'if the sandbox check fails, start the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined (or --privileged)',
  };
}

/** The caller's directory, refused by the default profile (/tmp, the runtime directory): isolate run needs another there, the host is not at fault. */
function workingDirCheck(refused: IsolateError): Check {
  return { name: 'working directory', status: 'warn', detail: `isolate run with the default profile refuses this directory: ${refused.message}`, ...(refused.fix === undefined ? {} : { fix: refused.fix }) };
}

/** `cwd`: where the caller runs doctor, whose default policy decides which launchers isolate run would refuse. */
export async function runChecks(env: Readonly<Record<string, string | undefined>>, cwd = currentDir()): Promise<Check[]> {
  const uid = process.getuid?.() ?? -1;
  const { gate, refusedHere } = await launcherGate(env, cwd);
  const bwrapPath = findBwrap(env);
  const refused = gate('bwrap', bwrapPath);
  const bwrap = refused === undefined ? bwrapFacts(env, bwrapPath) : undefined;
  const userns = usernsFacts();
  return [
    refused === undefined ? bwrapCheck(bwrap) : refusedLauncher('bubblewrap', refused),
    ...usernsCheck({ platform: process.platform, uid, bwrap, userns }),
    apparmorCheck(userns, uid),
    // The real test: a sandbox with the default profile.
    ...(bwrap === undefined ? [] : [await sandboxCheck(env)]),
    nsjailCheck(env, gate),
    socatCheck(),
    seccompCheck(),
    prlimitCheck(uid),
    cgroupCheck(uid),
    ociRuntimeCheck(),
    containerCheck(),
    ...(refusedHere === undefined ? [] : [workingDirCheck(refusedHere)]),
  ];
}
