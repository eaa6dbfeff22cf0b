/**
 * Red team: the directories where the host's services keep their sockets.
 * A read-only mount does not stop `connect()` to a socket file, and a
 * service that answers the sandboxed command acts outside the sandbox: a
 * tmux server types into your shells, ssh-agent signs with your keys, the
 * session bus starts programs, Docker starts a privileged container. The
 * built-in profiles give the command a private /tmp and no /run; but the
 * working directory is shown whatever it is, so a run started in /tmp or
 * in the user's runtime directory ($XDG_RUNTIME_DIR, /run/user/<uid>), or
 * in the caller's $TMPDIR (where ssh-agent makes its socket), put
 * every socket there within reach, and the private /tmp was silently gone.
 *
 * The service is a unix socket server in this test process, at the path
 * such a service uses, owned by the runner with mode 0600 (as ssh-agent's
 * and the session bus's are); it records each connection and answers with
 * a secret. The command connects with python3. Written as a failing finding
 * first (the command read the secret under strict, default and dev); it now
 * guards the fix: such a run is refused (exit 125) before anything starts.
 * The host's abstract sockets (X11's, an abstract D-Bus address) belong to
 * its network namespace: `isolate explain` says so for `--net host`.
 */
import { chownSync, chmodSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ociRuntimes } from '../../src/host/oci-runtime.js';
import { token } from '../helpers/fs-fixture.js';
import { homeWithProject, isolateAsync, removeTestTree, runners, type Project, type Result, type Runner } from '../helpers/isolate.js';

const PROFILES = ['strict', 'default', 'dev'] as const;

const OCI_SKIP = process.platform !== 'linux' ? 'OCI runtimes need Linux' : ociRuntimes().some((r) => r.refused === undefined) ? undefined : 'no OCI runtime that works here (apt-get install runc)';
if (OCI_SKIP !== undefined) console.warn(`socket directories under --backend oci skipped: ${OCI_SKIP}`);

/** Connects to the socket named by its argument and prints what the service answers. */
const CLIENT = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nprint(s.recv(100).decode())";

interface Service {
  path: string;
  secret: string;
  /** How many connections the service accepted. */
  hits: () => number;
  close: () => Promise<void>;
}

/** A listening socket at `path`, the runner's own with mode 0600, that answers every connection with a secret. */
async function serviceAt(path: string, runner: Runner): Promise<Service> {
  const secret = token('rt-socket-secret');
  let hits = 0;
  const server: Server = createServer((s) => {
    hits += 1;
    s.end(`${secret}\n`);
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolvePromise());
  });
  chownSync(path, runner.uid, runner.gid);
  chmodSync(path, 0o600);
  return { path, secret, hits: () => hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A directory of the runner's with mode 0700, as ssh-agent and the runtime directory make theirs. */
function privateDir(path: string, runner: Runner): string {
  mkdirSync(path, { mode: 0o700 });
  chownSync(path, runner.uid, runner.gid);
  return path;
}

function connect(runner: Runner, p: Project, profile: string, socket: string, cwd: string, env: Record<string, string> = {}, extra: string[] = []): Promise<Result> {
  return isolateAsync(runner, ['run', '--profile', profile, '--cwd', cwd, ...extra, '--', 'python3', '-c', CLIENT, socket], { cwd: p.project, env: { ...p.env, ...env }, timeoutMs: 30_000 });
}

/** Refused before the command started: exit 125, the reason names the directory, and the service saw nothing. */
function expectRefused(r: Result, service: Service, dir: string): void {
  expect(r.stdout).not.toContain(service.secret);
  expect(service.hits(), 'the sandboxed command reached the host service').toBe(0);
  expect(r.status, r.stderr).toBe(125);
  expect(r.stderr).toContain(dir);
  expect(r.stderr).toContain('sockets');
  expect(r.stderr).toMatch(/fix: /);
}

describe.each(runners())('red team: the host\'s socket directories ($label)', (runner) => {
  let p: Project;
  let services: Service[];
  let extraDirs: string[];
  beforeEach(() => {
    p = homeWithProject(runner);
    services = [];
    extraDirs = [];
  });
  afterEach(async () => {
    for (const s of services) await s.close();
    for (const d of extraDirs) removeTestTree(d);
    p.cleanup();
  });

  const start = async (path: string): Promise<Service> => {
    const s = await serviceAt(path, runner);
    services.push(s);
    return s;
  };

  it.each(PROFILES)('%s: a run started in the runtime directory is refused; the session bus there is not reached', async (profile) => {
    const runtime = privateDir(join(p.home, 'runtime'), runner);
    const bus = await start(join(runtime, 'bus'));
    const r = await connect(runner, p, profile, bus.path, runtime, { XDG_RUNTIME_DIR: runtime });
    expectRefused(r, bus, runtime);
  });

  it.each(PROFILES)('%s: a run started in $TMPDIR, named through a link (as macOS names /private/var by /var), is refused; the ssh-agent socket ssh-agent makes there is not reached', async (profile) => {
    const tmp = privateDir(join(p.home, 'tmp'), runner);
    const link = join(p.home, 'tmp-link');
    symlinkSync(tmp, link);
    const agentDir = privateDir(join(tmp, 'ssh-XXXXabcd'), runner);
    const agent = await start(join(agentDir, 'agent.4242'));
    const r = await connect(runner, p, profile, agent.path, tmp, { TMPDIR: `${link}/` });
    expectRefused(r, agent, tmp);
  });

  it.each(PROFILES)('%s: a run started in /tmp is refused; an ssh-agent socket there is not reached', async (profile) => {
    const dir = mkdtempSync('/tmp/isolate-it-ssh-');
    extraDirs.push(dir);
    chownSync(dir, runner.uid, runner.gid);
    const agent = await start(join(dir, 'agent.4242'));
    const r = await connect(runner, p, profile, agent.path, '/tmp');
    expectRefused(r, agent, '/tmp');
  });

  it.skipIf(OCI_SKIP !== undefined)('--backend oci: a run started in /tmp is refused too', async () => {
    const dir = mkdtempSync('/tmp/isolate-it-ssh-');
    extraDirs.push(dir);
    chownSync(dir, runner.uid, runner.gid);
    const agent = await start(join(dir, 'agent.4242'));
    const r = await connect(runner, p, 'default', agent.path, '/tmp', {}, ['--backend', 'oci']);
    expectRefused(r, agent, '/tmp');
  });

  it.each(PROFILES)('%s: control: a run started in a directory of its own under /tmp runs, with a private /tmp where the agent is not', async (profile) => {
    const dir = mkdtempSync('/tmp/isolate-it-ssh-');
    const project = mkdtempSync('/tmp/isolate-it-cwd-');
    extraDirs.push(dir, project);
    for (const d of [dir, project]) chownSync(d, runner.uid, runner.gid);
    const agent = await start(join(dir, 'agent.4242'));
    const r = await isolateAsync(runner, ['run', '--profile', profile, '--', 'sh', '-c', `pwd; test -e ${agent.path} && echo AGENT-SEEN; true`], { cwd: project, env: p.env, timeoutMs: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(project);
    expect(r.stdout).not.toContain('AGENT-SEEN');
    expect(agent.hits()).toBe(0);
  });

  it('naming the runtime directory with --allow-read is refused too', async () => {
    const runtime = privateDir(join(p.home, 'runtime'), runner);
    const bus = await start(join(runtime, 'bus'));
    const r = await connect(runner, p, 'default', bus.path, p.project, { XDG_RUNTIME_DIR: runtime }, ['--allow-read', runtime]);
    expectRefused(r, bus, runtime);
  });

  it("explain says what the host's network shares: its abstract sockets (dev), and not with none", async () => {
    const explain = (net: string): Promise<Result> => isolateAsync(runner, ['explain', '-p', 'dev', '--net', net, '--', 'true'], { cwd: p.project, env: p.env });
    const host = await explain('host');
    expect(host.status, host.stderr).toBe(0);
    expect(host.stdout).toMatch(/^network +host \(shares the host network: its loopback services and its abstract unix sockets, such as a desktop's X11 and D-Bus\)$/m);
    const none = await explain('none');
    expect(none.stdout).not.toContain('abstract');
  });

  it('control: a socket the profile names itself is reached (the probe works; sharing one socket stays possible)', async () => {
    const runtime = privateDir(join(p.home, 'runtime'), runner);
    const bus = await start(join(runtime, 'bus'));
    const r = await connect(runner, p, 'default', bus.path, p.project, { XDG_RUNTIME_DIR: runtime }, ['--allow-read', bus.path]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(bus.secret);
    expect(bus.hits()).toBe(1);
  });
});
