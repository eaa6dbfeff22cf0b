/**
 * verifySandboxMounts: run/'s check, after nsjail has mounted the pinned
 * directories and protected files by path, that each is the very file or
 * directory run/ opened, and that the bind mount at that exact path (as the
 * sandbox sees it) is there with the planned flag. The "sandbox" here is a
 * child process in a mount namespace of its own (unshare -m) whose mounts are
 * made by path, as nsjail makes them; its root is the host's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPathFds } from '../../src/run/launch/path-fds.js';
import { verifySandboxMounts, parseMountinfo, unescapeMountinfo, type CheckedPath } from '../../src/run/mount-verify.js';

describe('mountinfo', () => {
  it('unescapes the octal escapes of space, tab, newline and backslash', () => {
    expect(unescapeMountinfo('/a\\040b\\011c\\012d\\134e')).toBe('/a b\tc\nd\\e');
    expect(unescapeMountinfo('/plain/ünï')).toBe('/plain/ünï');
  });

  it('reads the ID, the mount point and the per-mount read-only flag (not the super block\'s), in order', () => {
    const text = [
      '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '30 22 0:26 /p/.git /p/.git rw,nosuid,nodev - ext4 /dev/sda1 ro',
      '31 30 0:26 /p/.git/hooks /p/.git/hooks ro,nosuid,nodev master:3 - ext4 /dev/sda1 rw',
      '32 22 0:27 / /with\\040space ro - tmpfs tmpfs rw',
      'not a mount line',
      '',
    ].join('\n');
    expect(parseMountinfo(text)).toEqual([
      { id: 22, mountPoint: '/', readOnly: false },
      { id: 30, mountPoint: '/p/.git', readOnly: false },
      { id: 31, mountPoint: '/p/.git/hooks', readOnly: true },
      { id: 32, mountPoint: '/with space', readOnly: true },
    ]);
  });
});

/** unshare -m as root; as another user in a user namespace of its own (-r), where the host allows it. */
const UNSHARE = process.getuid?.() === 0 ? ['-m'] : ['-r', '-m'];
const canUnshare = spawnSync('unshare', [...UNSHARE, 'true']).status === 0;
if (!canUnshare) console.warn(`skipping verifySandboxMounts against real mounts: \`unshare ${UNSHARE.join(' ')}\` is not possible here`);

describe.skipIf(!canUnshare)('verifySandboxMounts', () => {
  let root: string;
  let project: string;
  let handles: Map<number, number>;
  let sandbox: ChildProcess | undefined;
  const git = (): string => join(project, '.git');
  const config = (): string => join(project, '.git', 'config');
  /** The pin (bound read-write) and the protected file in it (bound read-only), as nsjail's plan names them. */
  const entries = (): CheckedPath[] => [
    { fd: 5, path: git(), readOnly: false },
    { fd: 6, path: config(), readOnly: true },
  ];
  /** nsjail's two mounts, by path: the pin onto itself, then the protected file onto itself, read-only. */
  const NSJAIL_MOUNTS = 'mount --bind "$1/.git" "$1/.git" && mount --bind "$1/.git/config" "$1/.git/config" && mount -o remount,bind,ro "$1/.git/config"';

  /** Run `script` ($1: the project) in a new mount namespace; resolves with its /proc directory once it is done. */
  async function inNamespace(script: string): Promise<string> {
    const child = spawn('unshare', [...UNSHARE, 'sh', '-c', `${script} && echo ready && exec sleep 60`, 'sandbox', project], { stdio: ['ignore', 'pipe', 'pipe'] });
    sandbox = child;
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) res();
      });
      child.on('exit', (code) => rej(new Error(`the namespace's script failed (${code}): ${err}`)));
    });
    // unshare execs sh, which execs sleep: the same process all along.
    return `/proc/${child.pid}`;
  }

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-pathcheck-')));
    project = join(root, 'project');
    mkdirSync(join(project, '.git'), { recursive: true });
    writeFileSync(config(), '[core]\n');
    mkdirSync(join(project, 'decoy'));
    handles = openPathFds(entries());
  });
  afterEach(() => {
    sandbox?.kill('SIGKILL');
    sandbox = undefined;
    for (const h of handles.values()) closeSync(h);
    rmSync(root, { recursive: true, force: true });
  });

  it('accepts paths that are what was opened, each with its own mount on top, with the planned flag', async () => {
    const proc = await inNamespace(NSJAIL_MOUNTS);
    expect(verifySandboxMounts(proc, entries(), handles)).toBeUndefined();
  });

  it('regression: the pin swapped for a symlink while the mounts are made by path, and back before the check, is refused', async () => {
    // The concurrent sandbox's swap: the mounts follow the link into the decoy (nsjail creates the missing mount point
    // there, as here), and the original is back before run/ looks.
    const proc = await inNamespace(`mv "$1/.git" "$1/.git.orig" && ln -s decoy "$1/.git" && : > "$1/.git/config" && ${NSJAIL_MOUNTS} && rm "$1/.git" && mv "$1/.git.orig" "$1/.git"`);
    // What the command would see: the real .git, with no read-only mount on its config.
    expect(readFileSync(join(proc, 'mountinfo'), 'utf8')).toContain(`${project}/decoy/config`);
    const e = verifySandboxMounts(proc, entries(), handles);
    expect(e?.code).toBe('E_SANDBOX_SETUP');
    expect(e?.exitCode).toBe(125);
    expect(e?.message).toBe(`${git()} is not mounted inside the sandbox as isolate asked; the command was not run`);
    expect(e?.detail).toBe(`nothing is mounted at ${git()} inside the sandbox (the read-write bind landed elsewhere)`);
    // The protected file alone: refused too.
    expect(verifySandboxMounts(proc, entries().slice(1), handles)?.detail).toBe(`nothing is mounted at ${config()} inside the sandbox (the read-only bind landed elsewhere)`);
  });

  it('refuses paths with no mount of their own (the original inode, but nothing bound there)', async () => {
    const proc = await inNamespace('true');
    expect(verifySandboxMounts(proc, entries(), handles)?.message).toBe(`${git()} is not mounted inside the sandbox as isolate asked; the command was not run`);
  });

  it('refuses a mount with the wrong flag: a read-write protected file, a read-only pin', async () => {
    const rw = await inNamespace('mount --bind "$1/.git" "$1/.git" && mount --bind "$1/.git/config" "$1/.git/config"');
    expect(verifySandboxMounts(rw, entries(), handles)?.detail).toBe(`the mount at ${config()} inside the sandbox is read-write, not read-only`);
    sandbox?.kill('SIGKILL');
    const ro = await inNamespace(`${NSJAIL_MOUNTS} && mount -o remount,bind,ro "$1/.git"`);
    expect(verifySandboxMounts(ro, entries(), handles)?.detail).toBe(`the mount at ${git()} inside the sandbox is read-only, not read-write`);
  });

  it('takes the topmost mount at the path: a read-write bind stacked on the read-only one is refused', async () => {
    // (A bind keeps the flags of the mount it copies: made read-write explicitly.)
    const proc = await inNamespace(`${NSJAIL_MOUNTS} && mount --bind "$1/.git/config" "$1/.git/config" && mount -o remount,bind,rw "$1/.git/config"`);
    expect(parseMountinfo(readFileSync(join(proc, 'mountinfo'), 'utf8')).filter((m) => m.mountPoint === config()).map((m) => m.readOnly)).toEqual([true, false]);
    expect(verifySandboxMounts(proc, entries(), handles)?.detail).toBe(`the mount at ${config()} inside the sandbox is read-write, not read-only`);
  });

  it('a writable path kept read-only whole (its bind, and the protected name\'s read-only bind on top): read-only on top is accepted, read-write alone refused', async () => {
    // As the plan lists them: the protected name's descriptor first, the writable path's bind after.
    const whole: CheckedPath[] = [
      { fd: 7, path: git(), readOnly: true },
      { fd: 8, path: git(), readOnly: false },
    ];
    const wholeHandles = openPathFds(whole);
    try {
      const ok = await inNamespace('mount --bind "$1/.git" "$1/.git" && mount --bind "$1/.git" "$1/.git" && mount -o remount,bind,ro "$1/.git"');
      expect(verifySandboxMounts(ok, whole, wholeHandles)).toBeUndefined();
      sandbox?.kill('SIGKILL');
      const rw = await inNamespace('mount --bind "$1/.git" "$1/.git"');
      expect(verifySandboxMounts(rw, whole, wholeHandles)?.detail).toBe(`the mount at ${git()} inside the sandbox is read-write, not read-only`);
    } finally {
      for (const h of wholeHandles.values()) closeSync(h);
    }
  });

  it('refuses a path that leads to another mount than the one listed at it (covered by a later mount above it)', async () => {
    // A second, non-recursive bind of .git over the first hides the config's mount; the file itself is the same inode.
    const proc = await inNamespace(`${NSJAIL_MOUNTS} && mount --bind "$1/.git" "$1/.git"`);
    expect(verifySandboxMounts(proc, entries().slice(0, 1), handles)).toBeUndefined();
    const e = verifySandboxMounts(proc, entries(), handles);
    expect(e?.message).toBe(`${config()} is not mounted inside the sandbox as isolate asked; the command was not run`);
    expect(e?.detail).toBe(`${config()} inside the sandbox leads to another mount than the one on top at that path`);
  });

  it('refuses a directory swapped for a symlink after it was mounted, even one to the original', async () => {
    const proc = await inNamespace(NSJAIL_MOUNTS);
    renameSync(git(), join(project, '.git-real'));
    symlinkSync(join(project, '.git-real'), git());
    const e = verifySandboxMounts(proc, entries(), handles);
    expect(e?.code).toBe('E_SANDBOX_SETUP');
    expect(e?.message).toBe(`${git()} changed while the sandbox was being set up; the command was not run`);
    expect(e?.detail).toBe(`inside the sandbox ${git()} is a symbolic link`);
  });

  it('refuses another directory or file at the path (another inode)', async () => {
    const proc = await inNamespace(NSJAIL_MOUNTS);
    renameSync(git(), join(project, '.git-real'));
    mkdirSync(git());
    expect(verifySandboxMounts(proc, entries(), handles)?.message).toBe(`${git()} changed while the sandbox was being set up; the command was not run`);
    rmSync(git(), { recursive: true });
    renameSync(join(project, '.git-real'), git());
    writeFileSync(`${config()}.new`, 'x\n');
    renameSync(`${config()}.new`, config());
    expect(verifySandboxMounts(proc, entries(), handles)?.message).toBe(`${config()} changed while the sandbox was being set up; the command was not run`);
  });

  it('refuses a path that is gone, a descriptor run/ does not hold, or an entry without its flag', async () => {
    const proc = await inNamespace(NSJAIL_MOUNTS);
    expect(verifySandboxMounts(proc, [{ fd: 9, path: git(), readOnly: false }], handles)?.detail).toBe('isolate did not open it');
    expect(verifySandboxMounts(proc, [{ fd: 5, path: git() }], handles)?.detail).toBe('the plan does not say whether it is mounted read-only or read-write');
    rmSync(config());
    expect(verifySandboxMounts(proc, entries(), handles)?.detail).toBe(`inside the sandbox ${config()} does not exist`);
  });
});
