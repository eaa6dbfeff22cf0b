/**
 * The start-up snapshot's warm-up (src/cli/snapshot.ts): while the snapshot
 * is built, run the pure parts of a run once, so that V8 compiles them then
 * and a run from the snapshot starts with their bytecode instead of
 * compiling them on first call (docs/performance.md, "Start-up").
 *
 * Nothing here reads the machine that builds the snapshot: the profile is
 * the text below, the disk and the host are made up, and every value
 * computed is dropped. What stays in the snapshot is compiled code, which
 * is the same on every machine. The parts a run does on the host (host
 * facts, the sandbox's start, the audit log's files) are not run here.
 */
import type { HostFacts, Plan, ProtectFact, SealEntry } from './backends/types.js';
import { sealedParents } from './backends/seal.js';
import type { MergedProfile, Policy } from './profile/types.js';
import { IsolateError } from './errors.js';
import { loadBackend } from './backends/index.js';
import { applyOverrides, emptyMerged, mergeDoc } from './profile/load.js';
import { parseProfileText } from './profile/parse.js';
import { resolvePolicy, type PathLookup } from './profile/resolve.js';
import { validateProfileDoc } from './profile/schema.js';
import { auditRecordOf, buildReport, policyDigest } from './audit/report.js';
import { chainRecord, GENESIS_HASH } from './audit/chain.js';
import { decide, ruleSet } from './network/rules.js';

/** The made-up caller: a user with a project in their home. */
const HOME = '/home/user';
const CWD = `${HOME}/project`;
const ENV: Readonly<Record<string, string>> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME, USER: 'user', LANG: 'C.UTF-8', TERM: 'xterm', API_TOKEN: 'not-a-secret' };

/** A profile with an entry of every kind a run meets (the built-in ones are read from the package when a run needs them). */
const PROFILE = `description: the start-up snapshot's warm-up
filesystem:
  read: [/usr, /bin, /etc, { path: /opt, optional: true }, { path: /nix/store, optional: true }, "\${CWD}"]
  write: ["\${CWD}", { path: ~/.cache, optional: true }]
  tmpfs: [/tmp, /var/tmp, "~"]
  deny: [/etc/shadow, /etc/ssh, ~/.ssh, ~/.npmrc, "\${CWD}/.env"]
  protect: [.git/hooks, .git/config, .envrc, .vscode, .npmrc]
network:
  mode: filtered
  allow: [registry.npmjs.org, "*.github.com:443", "10.0.0.1:8080"]
  deny: [evil.example]
environment:
  pass: [PATH, HOME, LANG, "LC_*", TERM]
  set: { CI: "1" }
  secrets: ["*_TOKEN"]
process: { cwd: "\${CWD}", hostname: isolate }
limits: { timeout: 5m, memory: 2G, processes: 512, openFiles: 1024, ceilings: { tmpfs: 2G } }
syscalls: { preset: default, deny: [ptrace], allow: [] }
commands: { deny: ["rm -rf /"] }
audit: { enabled: true }
`;

/** Every path exists as a directory, but for the few files the profile names; /bin and /lib lead into /usr. */
const DISK: PathLookup = {
  stat: (path) => (path.startsWith('/nix') ? undefined : /(shadow|npmrc|\.env)$/.test(path) ? 'file' : 'dir'),
  realpath: (path) => path.replace(/^\/(bin|lib)(?=\/|$)/, '/usr/$1'),
  isSymlink: (path) => /^\/(bin|lib)$/.test(path),
};

const OWN_CODE = ['/usr/lib/node_modules/isolate-sandbox/bin', '/usr/lib/node_modules/isolate-sandbox/dist', '/usr/bin/node'];

async function warmMerged(): Promise<MergedProfile> {
  const checked = validateProfileDoc(await parseProfileText('warm-up.yaml', PROFILE));
  if (!checked.ok) throw new Error(`the warm-up profile is invalid: ${JSON.stringify(checked.issues)}`);
  const merged = { ...mergeDoc(emptyMerged(), checked.value, 'warm-up.yaml'), name: 'warm-up' };
  return applyOverrides(merged, { allowDomain: ['example.test'], env: ['EDITOR=vi'] }, { callerCwd: CWD, env: ENV });
}

function protectFacts(policy: Policy): ProtectFact[] {
  return policy.filesystem.protect.map((name, i) => ({ path: `${CWD}/${name}`, state: (['dir', 'file', 'missing'] as const)[i % 3] ?? 'missing', pins: name.includes('/') ? [`${CWD}/.git`] : [] }));
}

/** What each sealed directory of the made-up host holds. */
const SEALED_ENTRIES: SealEntry[] = [
  { name: 'file', type: 'file' },
  { name: 'dir', type: 'dir' },
  { name: 'link', type: 'symlink', target: 'file' },
];

function warmHost(policy: Policy): HostFacts {
  return {
    platform: 'linux',
    // The architecture of the Node that builds the snapshot, which is the one that runs it: a filter compiled for it is kept.
    arch: process.arch,
    uid: 1000,
    gid: 1000,
    bwrap: { path: '/usr/bin/bwrap', version: '0.9.0' },
    prlimit: '/usr/bin/prlimit',
    kernelPaths: [
      { path: '/proc/sys', dir: true },
      { path: '/proc/kcore', dir: false },
    ],
    userns: { maxUserNamespaces: 63379, unprivilegedClone: undefined, apparmorRestrict: undefined },
    env: ENV,
    protect: protectFacts(policy),
    command: { program: 'true', candidates: [{ path: '/usr/bin/true', real: '/usr/bin/true', isFile: true, executable: true }] },
    network: { socat: '/usr/bin/socat', shell: '/usr/bin/sh', socketDir: '/run/user/1000/isolate/run-warm-up' },
    cgroup: { version: 2, parents: { memory: '/sys/fs/cgroup/user.slice', pids: '/sys/fs/cgroup/user.slice' }, files: ['memory.swap.max', 'cgroup.kill'], name: 'isolate-1-warm-up' },
    sealed: sealedParents(policy.filesystem.mounts).map((path) => ({ path, entries: SEALED_ENTRIES })),
    standIns: '/run/user/1000/isolate/stand-ins',
  };
}

/** The records a run writes, as the audit log's chain hashes them. */
function warmRecords(policy: Policy, plan: Plan): void {
  const policySha256 = policyDigest(policy);
  const error = new IsolateError('E_INTERNAL', 'the warm-up reports a made-up failure');
  const input = { runId: '00000000-0000-4000-8000-000000000000', startedAt: new Date(0), command: ['true'], policy, policySha256, plan, cwd: CWD };
  const user = { uid: 1000, gid: 1000, name: 'user' };
  const report = buildReport({ ...input, decision: undefined, result: { exitCode: 0, signal: null, started: true, durationMs: 1 }, error: undefined, user });
  const failed = buildReport({ ...input, decision: undefined, result: undefined, error, user });
  chainRecord(auditRecordOf(failed), chainRecord(auditRecordOf(report), 0, GENESIS_HASH).record.seq, GENESIS_HASH);
  JSON.stringify(report, null, 2);
}

/**
 * Run the pure parts of a run on the made-up host (the backends this platform loads plan it), and on Linux the host side
 * of a run in a directory made for it (src/warm-up-host.ts). Resolves once done; keeps nothing.
 */
export async function warmUp(): Promise<void> {
  const merged = await warmMerged();
  const policy = resolvePolicy(merged, { vars: { CWD, HOME, TMPDIR: '/tmp' }, env: ENV, disk: DISK, ownCode: OWN_CODE });
  const rules = ruleSet(policy.network.allow, policy.network.deny);
  decide(rules, 'registry.npmjs.org', 443);
  decide(rules, 'evil.example', 80);
  if (process.platform !== 'linux') return;
  const host = warmHost(policy);
  const plan = (await loadBackend('bwrap')).plan(policy, ['true'], host);
  const { network: _network, ...offline } = host;
  // The built-in profiles' syscall policy: its filter, a pure function of the rules and the architecture, stays compiled (seccomp/compiled.ts).
  const builtin = { ...policy, network: { ...policy.network, mode: 'none' as const, allow: [], deny: [] }, syscalls: { preset: 'default' as const, deny: [], allow: [] } };
  (await loadBackend('bwrap')).plan(builtin, ['true'], offline);
  warmRecords(policy, plan);
  await (await import('./warm-up-host.js')).warmHostSide(merged, OWN_CODE, plan);
}
