/**
 * The contract between the policy layer and the enforcement backends.
 * A backend's plan() is pure: (policy, command, host facts) -> Plan.
 * Only run/ executes a Plan.
 */
import type { Limits, Policy } from '../profile/types.js';
import type { CredentialVariable } from '../profile/environment.js';
import type { DeviceFacts } from './devices.js';
import type { KernelPathFact } from './kernel-guard.js';

/** The backends, in the order `explain` and the CLI list them: the one definition of the list. `auto` never picks oci. */
export const BACKEND_NAMES = ['bwrap', 'nsjail', 'sandbox-exec', 'oci'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** What a user may ask for: a backend, or `auto` (see index.ts selectBackend). */
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];

/** What `isolate export --format` writes (export.ts has a renderer for each): the one definition of the list. */
export const EXPORT_FORMATS = ['oci', 'k8s'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ProtectFact {
  /** Absolute path of the protected name inside a writable root. */
  path: string;
  state: 'file' | 'dir' | 'symlink' | 'other' | 'missing';
  /** Existing directories between the writable root and `path`, to pin in place. */
  pins: string[];
  /** Why it is kept read-only, when its name does not say (a file with other names: host/linked-files.ts). */
  why?: string;
}

/**
 * A git configuration file the sandbox can see that holds a secret (a token
 * in an extraHeader or in a remote's URL: host/git-scrub.ts): the sandbox
 * sees `text` at its path instead, read-only; the file on the host is
 * never changed. unparsed: isolate could not parse it with certainty, and
 * `text` is empty.
 */
export interface GitConfigFact {
  path: string;
  text: string;
  unparsed?: true;
  /** How many names the file has, when more than one (hard links): the sandbox could read it by another name, so no backend runs. */
  links?: number;
}

/**
 * A directory on the way to the working directory or to a path the profile shows that the sandbox cannot enter
 * (host/unenterable.ts): it has no capabilities over the host's files, so only the permission bits count.
 */
export interface UnenterableFact {
  path: string;
  /** Its owner, and its permission bits (mode & 0o7777). */
  uid: number;
  mode: number;
}

/** An entry under a read-only path that a run by root could read only as its owner (host/root-only.ts): hidden. */
export interface RootOnlyFact {
  path: string;
  dir: boolean;
}

/** An entry of a sealed directory (seal.ts) as the host listed it: its name (UTF-8; anything else is refused when listed) and type. */
export type SealEntry = { name: string; type: SealType } | { name: string; type: 'symlink'; target: string };

/** What a sealed directory's entry that is bound was listed as (a link is made again, never bound). */
export type SealType = 'file' | 'dir' | 'other';

/** The listing of a directory the sandbox rebuilds (seal.ts): host/sealed.ts reads it, one readdir per directory. */
export interface SealFact {
  path: string;
  entries: SealEntry[];
  /**
   * Why the directory stays a view of the host's instead (its entries then
   * not listed): only root can add, remove or rename entries in it, and the
   * run is not root's (host/sealed.ts).
   */
  keep?: string;
  /**
   * Listed because a hidden path in it (or below it) does not exist yet: the
   * nearest directory above that path that does, read-only in the sandbox.
   * Sealed so that the path a host program makes during the run (`gh auth
   * login` making ~/.config/gh) does not appear (seal.ts, sealCandidates).
   */
  absent?: true;
}

export interface CommandFact {
  /** What the user typed as the program. */
  program: string;
  /** Candidates in PATH order (or the single path when the program contains a slash). */
  candidates: { path: string; real: string | undefined; isFile: boolean; executable: boolean }[];
}

export interface UsernsFacts {
  maxUserNamespaces: number | undefined;
  /** Debian's kernel.unprivileged_userns_clone, when the kernel has it. */
  unprivilegedClone: number | undefined;
  /** Ubuntu's kernel.apparmor_restrict_unprivileged_userns, when present. */
  apparmorRestrict: number | undefined;
}

/** What the filtered network mode needs from the host. */
export interface NetworkFacts {
  /** socat, the forwarder that exposes the proxy on the sandbox's loopback. */
  socat: string | undefined;
  /** A POSIX shell to start the forwarder before the command. */
  shell: string | undefined;
  /** A fresh, not yet created, private directory for the proxy's socket. */
  socketDir: string;
}

/**
 * Where a run's cgroup can go, gathered by cgroup-host.ts when the policy has
 * a memory or process limit or requires cgroup enforcement.
 */
export interface CgroupFacts {
  /** The hierarchy isolate can use: v2 (unified, delegated or as root), v1 (root only); undefined when none. */
  version: 1 | 2 | undefined;
  /** Per controller, the directory the run's cgroup is created in (v2: the same directory for both). */
  parents?: { memory: string; pids: string };
  /** Optional control files this kernel has (e.g. memory.swap.max, memory.memsw.limit_in_bytes, cgroup.kill). */
  files?: string[];
  /** Why no cgroup can be used, and how to fix it, when version is undefined. */
  unusable?: { reason: string; fix: string };
  /** A fresh name for this run's cgroup, isolate-<pid>-<random>. */
  name: string;
}

/** nsjail, when installed (or named by ISOLATE_NSJAIL): host/facts.ts nsjailFacts. */
export interface NsjailFacts {
  path: string;
  /** The release line, from the option names in the binary (e.g. ">=3.5"), or "unknown". */
  version: string;
}

/** sandbox-exec on macOS: host/facts.ts sandboxExecFacts. */
export interface SandboxExecFacts {
  path: string;
  /**
   * A fresh directory for this run, not yet created, as a real path (on
   * macOS: under realpath($TMPDIR), e.g. /private/var/folders/../T/isolate-run-<pid>-<random>).
   * Needed when the profile has tmpfs paths.
   */
  runDir?: string | undefined;
  /** The macOS version (sw_vers -productVersion), for the report. */
  version?: string | undefined;
  /**
   * filtered network: the loopback port the proxy listens on for this run,
   * chosen among the dynamic ports so that concurrent runs do not collide
   * (PROXY_PORT when absent). It reaches the profile as the PROXY_PORT
   * parameter, and the proxy variables of the environment.
   */
  proxyPort?: number | undefined;
}

/** An OCI runtime for `--backend oci` (host/oci-runtime.ts), gathered only when that backend is asked for. */
export interface OciFacts {
  /** The runtime that starts bundles on this host; undefined when none is installed or usable. */
  runtime: { name: 'runc' | 'crun'; path: string; version: string | undefined } | undefined;
  /** Installed runtimes that cannot start a bundle here, and why. */
  refused: { name: string; reason: string }[];
  /** util-linux setpriv, which arms the sandbox's init to die with the runtime. */
  setpriv: string | undefined;
  /** A fresh, not yet created, private directory for this run's bundle (in isolate's runtime directory); its name is the container's. */
  bundleDir: string;
}

/** Everything a backend needs to know about the machine; gathered by host/facts.ts. */
export interface HostFacts {
  platform: NodeJS.Platform;
  arch: string;
  uid: number;
  gid: number;
  /**
   * bubblewrap, and util-linux setpriv when installed: bwrap arms its own
   * --die-with-parent only once it has parsed its arguments and made its
   * namespaces, so it is started under `setpriv --pdeathsig KILL`, which
   * arms the same signal before bwrap's first instruction (backends/bwrap.ts).
   */
  bwrap: { path: string; version: string; setpriv?: string | undefined } | undefined;
  /** nsjail, when installed (or named by ISOLATE_NSJAIL); examined only when it may be the backend. */
  nsjail?: NsjailFacts | undefined;
  /** /usr/bin/sandbox-exec on macOS; examined only there. */
  sandboxExec?: SandboxExecFacts | undefined;
  /**
   * Every mount point of isolate's mount namespace, gathered for nsjail,
   * whose read-only binds leave the mounts beneath them as they are (see
   * setup-ops.ts, the `submount` operation).
   */
  mountPoints?: readonly string[];
  userns: UsernsFacts;
  /** The caller's environment. Values reach only the child, never output. */
  env: Readonly<Record<string, string | undefined>>;
  protect: ProtectFact[];
  /** For a run: the git configuration files shown without their secrets (GitConfigFact); sandbox-exec and nsjail refuse them. */
  gitConfigs?: GitConfigFact[];
  /** For a run: the files a `store` credential helper of git's configuration keeps tokens in (host/git-credential-store.ts), real paths; hidden. */
  gitCredentialStores?: string[];
  command: CommandFact;
  /** Present when the policy's network mode is filtered. */
  network?: NetworkFacts;
  /** Which of the paths the kernel guard acts on exist on this kernel (kernel-guard.ts). */
  kernelPaths: KernelPathFact[];
  /** util-linux prlimit, which applies the rlimits inside the sandbox. */
  prlimit: string | undefined;
  /** Present when the policy has a memory or process limit, or requires a cgroup. */
  cgroup?: CgroupFacts;
  /** The policy's credentials as the command sees them: each variable holds a placeholder made for this run (never the value). */
  credentials?: CredentialVariable[];
  /** Present when the caller asked for a terminal of its own (run/tty/): the python3 that runs the helper, if any. */
  terminal?: { python: string | undefined };
  /** Present when isolate runs as root on Linux and the host's device nodes are root's: where its private copies of them are (devices.ts). */
  devices?: DeviceFacts;
  /** Present when `--backend oci` was asked for. */
  oci?: OciFacts;
  /** A run by root on Linux: what under its read-only paths only root may read, hidden (host/root-only.ts). */
  rootOnly?: RootOnlyFact[];
  /** Linux: the directories the sandbox cannot enter on the way to the working directory and the paths shown (host/unenterable.ts). */
  unenterable?: UnenterableFact[];
  /**
   * Linux, with `sealed`: the directory in isolate's private runtime directory where run/ keeps the empty
   * stand-ins of sealed entries that changed before the start (Plan.standIns).
   */
  standIns?: string;
  /**
   * Linux: the listing of each directory sealed for this policy (seal.ts,
   * sealedParents). Absent: nothing is sealed (an export, planned for
   * another time or machine); a run's plan refuses that (setup-plan.ts).
   */
  sealed?: SealFact[];
}

/**
 * An OCI runtime bundle run/ writes before the start (Plan.bundle), and
 * removes after the run however it ends: `dir` (mode 0700, must not exist
 * yet) with config.json (0600), the empty rootfs directory and its
 * symlinks; the runtime keeps its state in `stateDir` inside it. After the
 * run, a container the runtime still knows there (the runtime was killed)
 * is deleted with `runtime --root stateDir delete --force name`; a bundle
 * left by an isolate that was killed is removed the same way by the next run.
 */
export interface BundlePlan {
  dir: string;
  /** config.json, relative to dir, and its contents. */
  configFile: string;
  config: string;
  /** Relative to dir: directories to create (in order), then the symlinks. */
  dirs: string[];
  links: { path: string; target: string }[];
  /**
   * Host entries of sealed directories, bound read-only at their own paths
   * by the config, with the type each was listed as. One that is not of
   * that type when run/ writes the bundle (a link a host program swapped in,
   * gone, another type) is bound from its empty stand-in instead
   * (Plan.standIns), and run/ opens that stand-in for it (Plan.pathFds), as
   * it would for bwrap.
   */
  sealEntries: { path: string; type: SealType }[];
  /** Relative to dir: files to write (mode 0444) before the start, which config.json binds read-only (git configuration without its secrets). */
  files?: { path: string; data: string }[];
  stateDir: string;
  /** The container's name for the runtime. */
  name: string;
  runtime: string;
}

/**
 * A terminal of its own for the command (terminal.ts). given: the command
 * runs under the helper; run/ writes window sizes ("rows cols\n") on
 * `controlFd` (a pipe), and relays the caller's terminal to the launcher's
 * stdin, stdout and stderr, which are pipes. Not given: why, for a warning.
 */
export type TerminalPlan = { given: true; controlFd: number } | { given: false; reason: string; fix: string };

/** A process isolate runs beside the sandbox for the length of the run. */
export interface ProxyService {
  kind: 'proxy';
  /** Created by run/ (mode 0700) and removed after the run. */
  socketDir: string;
  socketPath: string;
  /** Where the socket appears inside the sandbox, and the loopback port the forwarder listens on. */
  sandboxSocket: string;
  port: number;
  allow: string[];
  deny: string[];
}

export type Service = ProxyService;

/** A step the plan asks run/ to take after the sandbox exits. */
export interface Cleanup {
  /** Remove a placeholder created for the run (see Plan.pathFds), if it is still an empty file or directory. */
  removeIfPlaceholder: string;
}

export interface Plan {
  backend: BackendName;
  backendVersion: string;
  /** The exact argv run/ executes (argv[0] is the program). */
  argv: string[];
  /** Extra arguments handed to the backend through a pipe (kept out of the host's process list). */
  pipedArgs: string[];
  /**
   * args: the descriptor pipedArgs are written to (bwrap --args). status: the
   * descriptor of bwrap's JSON status; without it, run/ takes the launcher's
   * own exit status as the command's. started (only without status): a
   * socket on which the sandbox's init writes one byte once the sandbox is
   * set up, then waits for run/ to answer "go\n" before it starts the
   * command (nsjail's init). If the launcher exits without that byte having
   * arrived (or without the answer: see checkPathFds), run/ reports a setup
   * failure (exit 125) instead of taking its exit status as the command's.
   * ready (only without status and started): the one-way form of started, for
   * launchers with nothing to check between the sandbox's start and the
   * command's (sandbox-exec): a wrapper inside the sandbox writes one byte
   * just before it execs the command, closes the descriptor, and waits for
   * no answer. If the launcher exits (or is killed) without that byte having
   * arrived, and isolate passed no signal on, run/ reports a setup failure
   * (exit 125) instead of its status.
   *
   * gate (beside status: bwrap): a socket on which the gate before the
   * command (sandbox-init.ts gateScript) writes one byte once the sandbox's
   * init has armed its parent-death signal, then waits for run/'s "go\n";
   * run/ answers while the run has not timed out, and closes it otherwise.
   * A gate that reads no answer (isolate is gone) exits 125 and the command
   * never starts.
   */
  fds: { args?: number; status?: number; started?: number; ready?: number; gate?: number };
  /**
   * Descriptors isolate's process inherited and does not pass on purpose
   * (the caller's) reach the launcher as /dev/null, never as what they were
   * (run/inherited-fds.ts). With this flag the launcher closes them: run/
   * adds `closeFdFlag N` after the launcher (argv[launcherAt]) for each (bwrap's --args reads a
   * descriptor to its end and closes it, before it starts anything).
   * Without it the launcher closes them itself (nsjail: every descriptor but
   * pass_fd) or never gets them (sandbox-exec: macOS's libuv spawns with
   * POSIX_SPAWN_CLOEXEC_DEFAULT).
   */
  closeFdFlag?: string;
  /** Where the launcher itself is in argv, after a program that arms it and execs it (setpriv); 0 when absent. */
  launcherAt?: number;
  /**
   * Further data handed to the launcher on descriptors (e.g. a generated
   * config). sealedBinds: nsjail's config, which binds the sealed entries of
   * pathFds by their paths: run/ binds each one that is not as listed just
   * before the start from its empty stand-in instead (nsjail-stand-ins.ts).
   * gitConfig: the git configuration file whose text without its
   * credentials this is (bwrap copies it into the sandbox at that path).
   */
  inputs?: { fd: number; data: string | Buffer; sealedBinds?: true; gitConfig?: string }[];
  /**
   * The seccomp BPF program, handed to the backend on `fd` (absent: no filter).
   * afterSetup: the launcher reads it only once the sandbox is set up, just
   * before it starts the command, and starts nothing without a valid one
   * (bwrap: an empty program fails its prctl). run/ then hands the other
   * inputs over at once, so that the sandbox is set up while isolate writes
   * the run-started record and moves the launcher and the sandbox's init
   * (fds.status reports it) into the run's cgroup, and writes the program
   * only once all of that is done.
   */
  seccomp?: { fd: number; program: Buffer; afterSetup?: boolean };
  /**
   * Paths inside writable roots (pinned directories, protected files) that
   * run/ opens without following symlinks just before the sandbox starts and
   * hands over on `fd`: a concurrent sandbox in the same project could swap
   * them for symlinks between the search and the mount. bwrap mounts from
   * them (--bind-fd, and checks its mount against the descriptor).
   * readOnly: the flag the bind mount at the path has (protected names and
   * placeholders read-only, pinned directories read-write), which run/
   * checks with checkPathFds.
   * create: a protected name that does not exist; run/ first creates an
   * empty file there (a placeholder, removed after the run: see cleanup), so
   * that it can be bound read-only like an existing one. dir (with create):
   * an empty directory (mode 0555) instead (backends/mounts.ts,
   * placeholderIsDir: a `.git`).
   * hidden: a placeholder where a hidden path that does not exist would be
   * made (setup-ops.ts): the host's /dev/null is mounted over it, and that
   * is what the sandbox has at the path; one a host program replaces is
   * left as it made it (replaced-guard.ts).
   * seal: an entry of a sealed directory (seal.ts), listed as this type. One
   * that is a symbolic link, gone, or of another type when run/ opens it is
   * never followed: run/ hands over an empty stand-in of that type instead
   * (run/launch/stand-ins.ts: a file for `file` and `other`, a directory for
   * `dir`), which the sandbox then shows at the path (a backend that binds
   * by path: an OCI bundle's config.json and nsjail's config then bind the
   * stand-in; one that changes after that is refused). Nothing is created or
   * removed on the host for it, and it is not watched during the run (a
   * host rename cannot detach its mount: it is made on the sealed tmpfs).
   * bind: a path the profile binds (a readable or writable root:
   * setup-ops.ts), opened so that a link swapped in on the way after the
   * check is never followed; not watched during the run (a root renamed
   * away takes its mount along, and shows the sandbox nothing new).
   */
  pathFds?: { fd: number; path: string; readOnly?: boolean; create?: boolean; dir?: true; hidden?: boolean; seal?: SealType; bind?: true }[];
  /**
   * With sealed entries in pathFds: the directory of isolate's empty stand-ins
   * (run/launch/stand-ins.ts), in its private runtime directory, which no
   * sandbox sees.
   */
  standIns?: string;
  /**
   * The backend mounts pathFds by path (nsjail cannot bind a descriptor):
   * run/ keeps its descriptors until the started byte arrives, checks that
   * each path inside the sandbox (through /proc/<sandbox init>/root) has no
   * symlink on the way and is the very file or directory it opened, and that
   * the topmost mount at exactly that path (/proc/<sandbox init>/mountinfo)
   * is the one the path leads to, with the entry's readOnly flag; only then
   * it answers "go". A mismatch ends the run before the command starts
   * (exit 125). Needs fds.started.
   */
  checkPathFds?: boolean;
  /**
   * Hidden paths a program on the host could uncover by replacing them
   * during the run: covered by a mount on their own path outside any sealed
   * directory (seal.ts): in a directory the command may write, one left a
   * view of the host, or hidden for a run by root. run/ holds each and
   * kills the sandbox when one no longer leads to the file it was.
   */
  watchHidden?: string[];
  /**
   * Protected names not bound from a descriptor (git configuration shown
   * without its credentials, in a writable path): watched during the run as
   * the protected names of pathFds are, moved aside when replaced.
   */
  watchProtected?: string[];
  /** The environment the backend process itself starts with (empty for bwrap). */
  launcherEnv: Record<string, string>;
  /** The environment the sandboxed command receives. */
  childEnv: Record<string, string>;
  /** Names the caller had that the profile's wildcards would pass but were withheld as secrets. */
  withheldEnv: string[];
  command: { program: string; resolved: string; args: string[] };
  cwd: string;
  cleanup: Cleanup[];
  /** Started by run/ before the sandbox and stopped after it. */
  services: Service[];
  /**
   * A cgroup for the whole sandbox (memory and process limits). run/ creates
   * the directories and writes the limits before the start, adds the launcher
   * to it before handing it its arguments (so nothing runs outside the
   * cgroup), and removes it after the run.
   */
  cgroup?: CgroupPlan;
  /** An OCI runtime bundle to write before the start and remove after the run (see BundlePlan). */
  bundle?: BundlePlan;
  /** How run/ starts the launcher and reaches the sandbox, when not as by default (see LaunchPlan). */
  launch?: LaunchPlan;
  /** Present when a terminal was asked for (HostFacts.terminal). */
  terminal?: TerminalPlan;
  /**
   * isolate's private copies of the device nodes (devices.ts), which the
   * sandbox's /dev shows instead of the host's: run/ checks each before the
   * start and makes the missing or wrong ones. They also stand in for a
   * host device node (`< /dev/null`) on the launcher's stdin, stdout and
   * stderr, which the command could otherwise chmod through /proc/self/fd.
   */
  devices?: DeviceFacts;
  /**
   * With devices: the first of the descriptors (one a node, in DEVICE_NODES
   * order) on which run/ hands the launcher those copies, opened without
   * following a final link and checked (device, owner, mode) just before the
   * start. The launcher binds them by descriptor (bwrap: /proc/self/fd/N),
   * so a copy swapped after the check never reaches the sandbox. Absent: the
   * launcher mounts them by path (nsjail).
   */
  deviceFd?: number;
  /** The timeout is run/'s job; the rlimits are in argv. */
  limits: Limits;
  /** Readable account of what is enforced, for explain and the run report. */
  summary: PlanSummary;
}

/**
 * How run/ starts the launcher and reaches the sandbox's processes, for a
 * backend without a PID namespace around the sandbox (sandbox-exec). Without
 * it the launcher starts in '/', and the sandbox is the PID namespace that
 * the launcher reports on fds.status or that run/ finds under the launcher.
 */
export interface LaunchPlan {
  /** The directory the launcher starts in (for a launcher that cannot change directory itself); it must exist. */
  cwd: string;
  /**
   * process-group: the launcher starts in a new session (setsid), so it
   * leads a process group, and that group is the sandbox: signals and the
   * timeout go to the group, and what is left of it is killed when the
   * launcher exits. A process that leaves the group is not reached: run/
   * stops reading output it holds open a grace period after the launcher's
   * exit. Nothing in /proc is read.
   */
  reach: 'process-group';
  /**
   * A directory run/ creates (mode 0700; it must not exist yet) with `dirs`
   * directly in it (0700) before the start, and removes with everything in
   * it after the run however it ends, never following a symbolic link.
   * sandboxWrites: the paths the sandbox may write, so that run/ knows
   * whether the directory, renamed for its removal, is out of its reach.
   */
  runDir?: { path: string; dirs: string[]; sandboxWrites: string[] };
  /** After the run, read what the sandbox refused from this log, on a host that has it (macOS). */
  denials?: 'macos-unified-log';
}

export interface CgroupPlan {
  version: 1 | 2;
  /** Directories to create, in order (v2: one; v1: one per controller hierarchy), and to remove after the run. */
  dirs: string[];
  /** Limits to write after creating them, in order. `optional`: the file may not exist on this kernel. */
  writes: { file: string; value: string; optional?: boolean }[];
  /** cgroup.procs files the launcher's pid is written to. */
  procs: string[];
  /** Files to read after the run: which limit was hit, and the peak memory. */
  events: { memory?: string; pids?: string; peak?: string };
  /**
   * At the started handshake (Plan.fds.started), before the command may start: pids.max (`max`) becomes
   * pids.current (`current`, the launcher's processes and threads and the init) plus `add`. For a launcher
   * whose own count is known only once it has set the sandbox up (an OCI runtime's threads).
   */
  pidsAtStart?: { current: string; max: string; add: number };
  /**
   * At the started handshake, the sandbox's init must be in each of `dirs` or a cgroup inside it, else the command
   * is not started: for a launcher that makes the sandbox's cgroups itself (an OCI runtime), which could put them
   * elsewhere, where the limits would not count them.
   */
  initInside?: true;
}

export interface PlanSummary {
  readable: string[];
  writable: string[];
  hidden: string[];
  tmpfs: string[];
  protected: string[];
  placeholders: string[];
  /** Why a protected path or placeholder is there, where the name alone does not say (a directory on your PATH). */
  protectedWhy?: Record<string, string>;
  network: Policy['network']['mode'];
  /** How each limit is enforced, e.g. "cpu: 10s per process (RLIMIT_CPU)". */
  limits: string[];
  /** The seccomp preset and one line per refused system call; on sandbox-exec, the Seatbelt rules that stand for the preset (install: they are written). */
  seccomp: { preset: string; install: boolean; arch: string | null; rules: string[] };
  /** filtered mode: the rules and how the proxy is reached. */
  proxy?: { allow: string[]; deny: string[]; listen: string; socket: string };
  env: string[];
  namespaces: string[];
  notes: string[];
}

export interface Backend {
  name: BackendName;
  plan(policy: Policy, command: readonly string[], host: HostFacts): Plan;
}
