/**
 * A policy as an OCI runtime bundle's config.json (runtime-spec 1.0.2, as
 * runc and crun read it): the sandbox's filesystem from the setup operations
 * (oci-mounts.ts), its namespaces, no capabilities, no_new_privs, the
 * rlimits, the cgroup's memory and process limits, the environment, the
 * working directory, the hostname and the seccomp rules (seccomp/oci.ts).
 * Pure: the host facts come in, data goes out.
 *
 * What a bundle cannot hold is refused (E_BACKEND_UNSUPPORTED, exit 125),
 * never dropped: a wall-clock timeout (the runtime has none), the filtered
 * network and credentials (they need isolate's proxy beside the sandbox).
 */
import { IsolateError } from '../errors.js';
import { formatBytes } from '../profile/limits.js';
import type { Limits, Policy } from '../profile/types.js';
import { ociSeccomp, type OciSeccomp } from '../seccomp/oci.js';
import { resolveSeccomp } from '../seccomp/presets.js';
import { requireSeccompArch } from '../seccomp/syscalls.js';
import { linuxPlanBase, requireLinux } from './linux-common.js';
import { GIT_CONFIGS, ociFilesystem, type OciFilesystem, type OciMount, type RootfsLink } from './oci-mounts.js';
import { setupOps } from './setup-ops.js';
import type { HostFacts } from './types.js';

export const OCI_VERSION = '1.0.2';
/** The bundle's root directory, relative to config.json. */
export const ROOTFS = 'rootfs';

interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface OciConfig {
  ociVersion: string;
  process: {
    terminal: false;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', string[]>;
    rlimits: OciRlimit[];
    noNewPrivileges: true;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    uidMappings: { containerID: number; hostID: number; size: number }[];
    gidMappings: { containerID: number; hostID: number; size: number }[];
    namespaces: { type: string }[];
    resources?: { memory?: { limit: number; swap: number }; pids?: { limit: number } };
    seccomp?: OciSeccomp;
    readonlyPaths: string[];
    maskedPaths: string[];
  };
}

export interface OciBundle {
  config: OciConfig;
  /** Symlinks to create in the rootfs directory before the start. */
  links: RootfsLink[];
  /** Files to write beside config.json, relative to it, that mounts bind: git configuration without its secrets. */
  files: OciFilesystem['files'];
  /** What the bundle enforces differently from `isolate run`, one line each. */
  notes: string[];
}

/** isolate's namespace names as the runtime spec spells them. */
const NAMESPACE_TYPES: Readonly<Record<string, string>> = { user: 'user', pid: 'pid', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', mount: 'mount', net: 'network' };

function unsupported(what: string, fix: string): IsolateError {
  return new IsolateError('E_BACKEND_UNSUPPORTED', `an OCI bundle cannot enforce ${what}`, { fix });
}

/** Refuse what the bundle cannot hold. */
function refuseInexpressible(policy: Policy): void {
  if (policy.limits.timeoutMs !== undefined) {
    throw unsupported('a wall-clock timeout: the runtime has none, and isolate is not there to stop the command', 'remove the timeout (--timeout unlimited) and limit the run where you start it, e.g. `timeout 30 runc run ...` or the Job\'s activeDeadlineSeconds');
  }
  if (policy.network.mode === 'filtered') {
    throw unsupported('network mode filtered: the filtering proxy runs beside the sandbox, outside the bundle', 'export with --net none (an empty network namespace), or run it with `isolate run --net filtered`');
  }
  if ((policy.credentials ?? []).length > 0) {
    throw unsupported('credentials: their values are added by isolate\'s proxy, which the bundle does not have', 'remove the credentials from the profile for the export');
  }
}

/** RLIMIT_CORE off and the profile's rlimits, as bwrap's prlimit sets them. */
function rlimits(l: Limits | undefined): OciRlimit[] {
  const out: OciRlimit[] = [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }];
  if (l === undefined) return out;
  const add = (type: string, soft: number | undefined, hard = soft): void => {
    if (soft !== undefined && hard !== undefined) out.push({ type, soft, hard });
  };
  add('RLIMIT_CPU', l.cpuSeconds, l.cpuSeconds === undefined ? undefined : l.cpuSeconds + 1);
  add('RLIMIT_DATA', l.memoryBytes);
  add('RLIMIT_NPROC', l.processes ?? l.ceilings?.processes);
  add('RLIMIT_NOFILE', l.openFiles);
  add('RLIMIT_FSIZE', l.fileSizeBytes);
  return out;
}

/**
 * The cgroup limits the runtime sets, for the profile's own limits (memory
 * without extra swap): the runtime refuses to start where it cannot set
 * them. Ceilings apply where they can, as in a run: the process ceiling as
 * RLIMIT_NPROC only, the memory ceiling not at all.
 */
function resources(l: Limits): Pick<OciConfig['linux'], 'resources'> {
  const { memoryBytes: memory, processes: pids } = l;
  if (memory === undefined && pids === undefined) return {};
  return { resources: { ...(memory === undefined ? {} : { memory: { limit: memory, swap: memory } }), ...(pids === undefined ? {} : { pids: { limit: pids } }) } };
}

function limitNotes(l: Limits): string[] {
  const c = l.ceilings ?? {};
  return [
    ...(l.memoryBytes === undefined ? [] : [`memory: ${formatBytes(l.memoryBytes)} for the whole sandbox (linux.resources.memory; the runtime refuses to start where it cannot set it) and per process (RLIMIT_DATA)`]),
    ...(l.processes === undefined ? [] : [`processes: ${String(l.processes)} (linux.resources.pids, and RLIMIT_NPROC in the sandbox's user namespace)`]),
    ...(c.processes === undefined ? [] : [`process ceiling ${String(c.processes)}: RLIMIT_NPROC in the sandbox's user namespace (not for a sandbox of the host's root, which the kernel exempts)`]),
    ...(c.memoryBytes === undefined ? [] : [`memory ceiling ${formatBytes(c.memoryBytes)}: not in the bundle (a runtime that cannot set a cgroup limit refuses to start; set limits.memory to require it)`]),
  ];
}

function seccompFor(policy: Policy, host: HostFacts): OciSeccomp | undefined {
  const resolved = resolveSeccomp(policy.syscalls);
  if (!resolved.install) return undefined;
  const arch = requireSeccompArch(host.arch, { fix: 'set syscalls.preset: none in the profile to export without a syscall filter (weaker isolation)' });
  return ociSeccomp(resolved, [arch]);
}

/** What the config is made of: the parts `isolate export` and `isolate run --backend oci` each choose. */
export interface ConfigParts {
  policy: Policy;
  host: HostFacts;
  /** The process the runtime starts, and its environment. */
  args: string[];
  env: Record<string, string>;
  namespaces: readonly string[];
  fs: OciFilesystem;
  /** The profile's rlimits in process.rlimits (export); undefined: RLIMIT_CORE only (a run: prlimit sets the rest inside). */
  rlimits: Limits | undefined;
  /** linux.resources: the runtime's own cgroup limits (export), or none (a run: isolate's cgroup). */
  resources: boolean;
  seccomp: OciSeccomp | undefined;
}

/**
 * The one rendering of a policy as config.json. The sandbox's uid 0 is the
 * caller (a rootless runtime can map no other id); with no capability in
 * any set, it holds no privilege over anything the caller could not touch.
 */
export function ociConfig(c: ConfigParts): OciConfig {
  const { policy, host } = c;
  const none: string[] = [];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: c.args,
      env: Object.entries(c.env).map(([name, value]) => `${name}=${value}`),
      cwd: policy.process.cwd,
      capabilities: { bounding: none, effective: none, inheritable: none, permitted: none, ambient: none },
      rlimits: rlimits(c.rlimits),
      noNewPrivileges: true,
    },
    root: { path: ROOTFS, readonly: c.fs.rootReadOnly },
    hostname: policy.process.hostname,
    mounts: c.fs.mounts,
    linux: {
      uidMappings: [{ containerID: 0, hostID: host.uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: host.gid, size: 1 }],
      namespaces: c.namespaces.map((n) => ({ type: NAMESPACE_TYPES[n] ?? n })),
      ...(c.resources ? resources(policy.limits) : {}),
      ...(c.seccomp === undefined ? {} : { seccomp: c.seccomp }),
      readonlyPaths: c.fs.readonlyPaths,
      maskedPaths: c.fs.maskedPaths,
    },
  };
}

/** What the bundle says of the git configuration it carries without its secrets. */
function gitConfigNotes(count: number): string[] {
  if (count === 0) return [];
  return [
    `git configuration: ${String(count)} file(s) holding a credential (a token in an extraHeader or a remote's URL) are shown from cleaned copies in ${GIT_CONFIGS}/ beside config.json, as they were at the export; the bundle does not start without them (export with --out), and a credential written into another configuration file after the export is not removed`,
  ];
}

/** The bundle `isolate export --format oci` writes for `command` under `policy`. */
export function ociBundle(policy: Policy, command: readonly string[], host: HostFacts): OciBundle {
  requireLinux(host, 'OCI');
  refuseInexpressible(policy);
  const base = linuxPlanBase(policy, command, host);
  // An export runs at another time, maybe elsewhere: no directory is rebuilt from today's listing (seal.ts); docs/oci.md says so.
  const { sealed: _listings, ...unsealed } = host;
  const fs = ociFilesystem(setupOps(policy, unsealed));
  const config = ociConfig({
    policy,
    host,
    args: [base.resolved, ...command.slice(1)],
    env: base.env,
    namespaces: base.namespaces,
    fs,
    rlimits: policy.limits,
    resources: true,
    seccomp: seccompFor(policy, host),
  });
  return { config, links: fs.links, files: fs.files, notes: [...limitNotes(policy.limits), ...gitConfigNotes(fs.files.length)] };
}
