/**
 * No set-user-ID or set-group-ID file leaves a run: the sandbox's mounts are
 * nosuid, the host's are not, so such a file in the project would run with
 * the privileges of whoever made it (root, for a run as root) when anyone on
 * the host starts it. Every call that sets a mode is tried, including one
 * newer than isolate's tables (fchmodat2); judged by the files' modes on the
 * host afterwards. vsock and Bluetooth sockets, which no network namespace
 * confines, are refused whatever the network mode.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeWithProject, isolate, keyValues, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

const ATTEMPTS = [
  'import ctypes, os, shutil',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'def attempt(name, fn):',
  '    try:',
  '        fn()',
  '        print(name + "=done")',
  '    except OSError as e:',
  '        print(name + "=" + os.strerror(e.errno))',
  "shutil.copy('/bin/true', 'tool')",
  "attempt('chmod', lambda: os.chmod('tool', 0o4755))",
  "attempt('setgid', lambda: os.chmod('tool', 0o2755))",
  "attempt('create', lambda: os.close(os.open('made', os.O_CREAT | os.O_WRONLY, 0o6755)))",
  "attempt('mkdir', lambda: os.mkdir('dir', 0o2775))",
  "attempt('mknod', lambda: os.mknod('node', 0o104755))",
  'def fchmod():',
  "    fd = os.open('tool', os.O_RDONLY)",
  '    try:',
  '        os.fchmod(fd, 0o4755)',
  '    finally:',
  '        os.close(fd)',
  "attempt('fchmod', fchmod)",
  'def fchmodat2():',
  "    if libc.syscall(452, -100, b'tool', 0o4755, 0) != 0:",
  '        raise OSError(ctypes.get_errno(), "fchmodat2")',
  "attempt('fchmodat2', fchmodat2)",
  "attempt('plain', lambda: os.chmod('tool', 0o755))",
].join('\n');

describe.each(backendCases('set-user-ID checks'))('no set-user-ID files ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  it('every way to set S_ISUID or S_ISGID is refused, a plain mode is not, and the host sees no such file', () => {
    const r = isolate(runner, ['run', '--backend', backend, '--', 'python3', '-c', ATTEMPTS], { cwd: p.project, env: { ...p.env, ...backendEnv } });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    for (const key of ['chmod', 'setgid', 'create', 'mkdir', 'mknod', 'fchmod']) expect(kv[key], key).toBe('Operation not permitted');
    expect(kv['fchmodat2']).toBe('Function not implemented');
    expect(kv['plain']).toBe('done');
    for (const name of readdirSync(p.project)) {
      expect(statSync(join(p.project, name)).mode & 0o6000, `${name} on the host`).toBe(0);
    }
  });
});

describe.each(backendCases('socket family checks'))('sockets the network namespace does not confine ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  it('vsock and Bluetooth sockets are refused whatever the network mode; a unix socket is not', () => {
    const probe = [
      'import os, socket',
      'for name, family in (("vsock", 40), ("bluetooth", 31), ("unix", socket.AF_UNIX)):',
      '    try:',
      '        socket.socket(family, socket.SOCK_STREAM if family != 31 else socket.SOCK_SEQPACKET).close()',
      '        print(name + "=open")',
      '    except OSError as e:',
      '        print(name + "=" + os.strerror(e.errno))',
    ].join('\n');
    for (const net of ['none', 'host']) {
      const r = isolate(runner, ['run', '--backend', backend, '--net', net, '--', 'python3', '-c', probe], { cwd: p.project, env: { ...p.env, ...backendEnv } });
      expect(r.status, r.stderr).toBe(0);
      const kv = keyValues(r.stdout);
      expect(kv['vsock'], `vsock, --net ${net}`).toBe('Operation not permitted');
      expect(kv['bluetooth'], `bluetooth, --net ${net}`).toBe('Operation not permitted');
      expect(kv['unix']).toBe('open');
    }
  });
});
