/**
 * The host's device nodes are out of reach: a command run by root (whose
 * sandbox user is the host's uid 0, the owner of /dev/null and the rest)
 * cannot chmod, chown or re-time them, neither by their paths in the
 * sandbox's /dev nor through a descriptor the caller handed over
 * (`< /dev/null`). Judged on the host: mode, owner and ctime of each node
 * (its mtime too, but for /dev/tty, whose mtime every write to a terminal
 * through it moves). The devices still work.
 */
import { chmodSync, chownSync, closeSync, openSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { attempts } from '../helpers/fs-fixture.js';
import { homeWithProject, isolate, keyValues, type Project } from '../helpers/isolate.js';

const NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
const haveSetfacl = spawnSync('sh', ['-c', 'command -v setfacl'], { encoding: 'utf8' }).status === 0;
if (!haveSetfacl) console.warn('device node checks: setfacl is not installed, so ACL changes are not tried (chmod, chown and touch are)');

/** What a change to a node would show on the host. */
function hostState(name: string): string {
  const st = statSync(`/dev/${name}`, { bigint: true });
  const mtime = name === 'tty' ? '' : ` mtime=${st.mtimeNs}`;
  return `mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} ctime=${st.ctimeNs}${mtime}`;
}
const hostStates = (): Record<string, string> => Object.fromEntries(NODES.map((n) => [n, hostState(n)]));

/** Should a change ever get through, the host's nodes get their mode and owner back (as root; else none can get through). */
function restoreNodes(saved: ReadonlyMap<string, { mode: number; uid: number; gid: number }>): void {
  if (process.getuid?.() !== 0) return;
  for (const [name, was] of saved) {
    const st = statSync(`/dev/${name}`);
    if ((st.mode & 0o7777) !== (was.mode & 0o7777)) chmodSync(`/dev/${name}`, was.mode & 0o7777);
    if (st.uid !== was.uid || st.gid !== was.gid) chownSync(`/dev/${name}`, was.uid, was.gid);
  }
}

/** Each change a command could try on node `name` at `path`, which the sandbox must refuse. */
function changes(name: string, path: string): Record<string, string> {
  return {
    [`chmod-${name}`]: `chmod 0600 ${path}`,
    [`chown-${name}`]: `chown 65534 ${path}`,
    [`touch-date-${name}`]: `touch -d @0 ${path}`,
    ...(haveSetfacl ? { [`acl-${name}`]: `setfacl -m u:65534:rw ${path}` } : {}),
  };
}

/**
 * touch with no time needs only write access, which everyone has on these
 * nodes: it may succeed on the sandbox's own copy of a node (a run by root),
 * but must not reach the host's. Only bubblewrap run by an ordinary user
 * binds the host's nodes themselves, which that user can re-time outside
 * any sandbox as well (docs/backends.md, "Device nodes"): not tried there.
 */
const plainTouches = (paths: readonly string[], tried: boolean): string => (tried ? paths.map((path) => `touch ${path} 2>/dev/null\n`).join('') : '');

describe.each(backendCases('device node checks'))('the host\'s device nodes ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  const saved = new Map<string, { mode: number; uid: number; gid: number }>();
  beforeAll(() => {
    p = homeWithProject(runner);
    for (const name of NODES) saved.set(name, statSync(`/dev/${name}`));
  });
  afterAll(() => {
    restoreNodes(saved);
    p.cleanup();
  });

  const run = (args: string[], fds?: Record<number, number>) =>
    isolate(runner, ['run', '--backend', backend, ...args], { cwd: p.project, env: { ...p.env, ...backendEnv }, ...(fds === undefined ? {} : { fds }) });
  const hostNodesShown = runner.uid !== 0 && backend === 'bwrap';

  it('cannot chmod, chown or re-time /dev/null, /dev/tty and the others', () => {
    const before = hostStates();
    const ops = Object.assign({}, ...NODES.map((n) => changes(n, `/dev/${n}`))) as Record<string, string>;
    const r = run(['--', 'sh', '-c', plainTouches(NODES.map((n) => `/dev/${n}`), !hostNodesShown) + attempts(ops)]);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    for (const name of Object.keys(ops)) expect(kv[name], name).toBe('blocked');
    expect(hostStates()).toEqual(before);
  });

  it('cannot change the host\'s /dev/null through the descriptors the caller handed over (< /dev/null 2> /dev/null)', () => {
    const before = hostStates();
    const input = openSync('/dev/null', 'r');
    const errors = openSync('/dev/null', 'w');
    try {
      const ops = { ...changes('stdin', '/proc/self/fd/0'), ...changes('stderr', '/proc/self/fd/2') };
      const r = run(['--', 'sh', '-c', plainTouches(['/proc/self/fd/0', '/proc/self/fd/2'], runner.uid === 0) + attempts(ops)], { 0: input, 2: errors });
      expect(r.status).toBe(0);
      const kv = keyValues(r.stdout);
      for (const name of Object.keys(ops)) expect(kv[name], name).toBe('blocked');
    } finally {
      closeSync(input);
      closeSync(errors);
    }
    expect(hostStates()).toEqual(before);
  });

  it('the devices still work: /dev/null takes writes, /dev/zero and /dev/urandom give bytes, /dev/full is full', () => {
    const script = [
      'echo discarded > /dev/null && echo null=ok',
      'echo "zero=$(head -c 8 /dev/zero | od -An -tx1 | tr -d " \\n")"',
      'echo "urandom=$(head -c 16 /dev/urandom | wc -c)"',
      'echo "random=$(head -c 4 /dev/random | wc -c)"',
      'echo "full=$(head -c 1 /dev/zero 2>&1 >/dev/full | grep -c "No space left")"',
      'echo "dev=$(stat -c %t:%T /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | tr "\\n" " ")"',
    ].join('\n');
    const r = run(['--', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['null']).toBe('ok');
    expect(kv['zero']).toBe('0000000000000000');
    expect(kv['urandom']).toBe('16');
    expect(kv['random']).toBe('4');
    expect(kv['full']).toBe('1');
    expect(kv['dev']?.trim()).toBe('1:3 1:5 1:7 1:8 1:9 5:0');
  });
});
