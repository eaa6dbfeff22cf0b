/**
 * The proxy directories of filtered runs: the name that says whose a
 * directory is, and the sweep that removes those of killed runs, and nothing
 * else: not a live run's, not one in another PID namespace, not another
 * user's, not through a symlink, not one holding anything isolate did not
 * put there, not in a base other users can rearrange.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pidNamespaceOf, processStart } from '../../src/host/alive.js';
import { proxyDirName, sweepProxyDirs } from '../../src/host/proxy-dir.js';

const b36 = (n: number | undefined): string => (n ?? 0).toString(36);
const OWN = { start: b36(processStart('self')), ns: b36(pidNamespaceOf('self')) };

/** A pid no process has: one that has just exited. */
function deadPid(): number {
  const r = spawnSync('true');
  if (r.pid === undefined || r.pid <= 0) throw new Error('could not start true');
  return r.pid;
}

/** A unix socket file with nothing listening, as a killed proxy leaves it. */
function unixSocket(path: string): void {
  const r = spawnSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot create a socket at ${path}: ${r.stderr}`);
}

let base: string;
let serial = 0;

/** What a run leaves: a 0700 directory with proxy.sock (or, killed before it listened, without). */
function leftover(marks: { pid: number; start?: string; ns?: string }, socket = true): string {
  const random = (serial++).toString(16).padStart(8, '0');
  const dir = join(base, `net-${marks.pid}-${marks.start ?? OWN.start}-${marks.ns ?? OWN.ns}-${random}`);
  mkdirSync(dir, { mode: 0o700 });
  if (socket) unixSocket(join(dir, 'proxy.sock'));
  return dir;
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'isolate-unit-proxy-dir-'));
  chmodSync(base, 0o700);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe.runIf(process.platform === 'linux')('proxy directories', () => {
  it('the name carries the pid, start time and PID namespace of the isolate process, and 32 random bits', () => {
    const a = proxyDirName();
    expect(a).toMatch(new RegExp(`^net-${process.pid}-${OWN.start}-${OWN.ns}-[0-9a-f]{8}$`));
    expect(OWN.start).not.toBe('0');
    expect(OWN.ns).not.toBe('0');
    expect(proxyDirName()).not.toBe(a);
  });

  it("removes a dead run's directory, with or without its socket", () => {
    const withSocket = leftover({ pid: deadPid() });
    const early = leftover({ pid: deadPid() }, false);
    expect(sweepProxyDirs(base).sort()).toEqual([withSocket, early].sort());
    expect(readdirSync(base)).toEqual([]);
  });

  it("removes a dead run's directory that holds its credentials' trust bundle (certificates only), and keeps a live one's", () => {
    const dead = leftover({ pid: deadPid() });
    writeFileSync(join(dead, 'ca-bundle.pem'), '-----BEGIN CERTIFICATE-----\n', { mode: 0o644 });
    const live = leftover({ pid: process.pid });
    writeFileSync(join(live, 'ca-bundle.pem'), '-----BEGIN CERTIFICATE-----\n', { mode: 0o644 });
    expect(sweepProxyDirs(base)).toEqual([dead]);
    expect(existsSync(join(live, 'ca-bundle.pem'))).toBe(true);
  });

  it("keeps a live run's directory, and removes one whose pid now belongs to a process that started later", () => {
    const live = leftover({ pid: process.pid });
    const recycled = leftover({ pid: process.pid, start: b36(Number.parseInt(OWN.start, 36) - 1) });
    expect(sweepProxyDirs(base)).toEqual([recycled]);
    expect(existsSync(join(live, 'proxy.sock'))).toBe(true);
  });

  it('leaves directories made in another PID namespace (the same pid there is another process)', () => {
    const other = leftover({ pid: deadPid(), ns: b36(Number.parseInt(OWN.ns, 36) + 1) });
    const unknown = leftover({ pid: deadPid(), start: '0', ns: '0' });
    expect(sweepProxyDirs(base)).toEqual([]);
    expect(existsSync(join(other, 'proxy.sock'))).toBe(true);
    expect(existsSync(join(unknown, 'proxy.sock'))).toBe(true);
  });

  it('leaves a dead run\'s directory that holds anything else, or is not 0700', () => {
    const extra = leftover({ pid: deadPid() });
    writeFileSync(join(extra, 'notes.txt'), 'mine');
    const fileNotSocket = leftover({ pid: deadPid() }, false);
    writeFileSync(join(fileNotSocket, 'proxy.sock'), '');
    const sub = leftover({ pid: deadPid() }, false);
    mkdirSync(join(sub, 'proxy.sock'));
    const open = leftover({ pid: deadPid() });
    chmodSync(open, 0o755);
    const bundleDir = leftover({ pid: deadPid() });
    mkdirSync(join(bundleDir, 'ca-bundle.pem'));
    const bundleLink = leftover({ pid: deadPid() });
    symlinkSync('/etc/passwd', join(bundleLink, 'ca-bundle.pem'));
    expect(sweepProxyDirs(base)).toEqual([]);
    expect(existsSync(join(bundleDir, 'ca-bundle.pem'))).toBe(true);
    expect(lstatSync(join(bundleLink, 'ca-bundle.pem')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(extra, 'notes.txt'))).toBe(true);
    expect(existsSync(join(extra, 'proxy.sock'))).toBe(true);
    expect(existsSync(join(fileNotSocket, 'proxy.sock'))).toBe(true);
    expect(existsSync(join(sub, 'proxy.sock'))).toBe(true);
    expect(existsSync(join(open, 'proxy.sock'))).toBe(true);
  });

  it('never follows a symlink named like a dead run\'s directory', () => {
    const target = leftover({ pid: deadPid() });
    const victim = join(base, 'victim');
    mkdirSync(victim, { mode: 0o700 });
    unixSocket(join(victim, 'proxy.sock'));
    const link = join(base, basename(target).replace(/[0-9a-f]{8}$/, 'f'.repeat(8)));
    symlinkSync(victim, link);
    expect(sweepProxyDirs(base)).toEqual([target]);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(victim, 'proxy.sock')).isSocket()).toBe(true);
  });

  it('only takes names of exactly the pattern', () => {
    const pid = deadPid();
    const good = basename(leftover({ pid }, false));
    const near = [
      `${good}0`,
      good.slice(0, -1),
      `${good}.old`,
      good.replace('net-', 'run-'),
      good.replace(`-${pid}-`, `-0${pid}-`),
      good.replace(/[0-9a-f]{8}$/, 'A'.repeat(8)),
      `${good.slice(0, -8)}${'0'.repeat(12)}`,
      `isolate-${good}`, // the name before the directory was private: isolate-net-...
      `net-${pid}-${'0'.repeat(8)}`,
    ];
    for (const n of near) mkdirSync(join(base, n), { mode: 0o700 });
    expect(sweepProxyDirs(base)).toEqual([join(base, good)]);
    expect(readdirSync(base).sort()).toEqual(near.sort());
  });

  it('does nothing in a base that other users can write to without the sticky bit; does its work in a sticky one', () => {
    const dir = leftover({ pid: deadPid() });
    chmodSync(base, 0o777);
    expect(sweepProxyDirs(base)).toEqual([]);
    expect(existsSync(dir)).toBe(true);
    chmodSync(base, 0o1777);
    expect(sweepProxyDirs(base)).toEqual([dir]);
  });

  const root = process.getuid?.() === 0;
  if (!root) console.warn("proxy-dir: skipping the other user's directory check: only root can give a directory to another user");
  it.runIf(root)("leaves another user's directory (checked as root, who could remove it)", () => {
    const theirs = leftover({ pid: deadPid() });
    chownSync(theirs, 65534, 65534);
    const mine = leftover({ pid: deadPid() });
    expect(sweepProxyDirs(base)).toEqual([mine]);
    expect(existsSync(join(theirs, 'proxy.sock'))).toBe(true);
  });

  it('a missing base is no error', () => {
    expect(sweepProxyDirs(join(base, 'missing'))).toEqual([]);
  });
});
