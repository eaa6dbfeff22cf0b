/**
 * Where a run by root keeps its copies of the device nodes (host/facts.ts
 * deviceFacts), and how a plan binds them (backends/bwrap.ts setupArgs).
 */
import { describe, expect, it } from 'vitest';
import { setupArgs } from '../../src/backends/bwrap.js';
import { DEVICE_NODES, deviceArgsByPath, deviceNumber } from '../../src/backends/devices.js';
import { deviceFacts } from '../../src/host/facts.js';

const notLinux = process.platform !== 'linux';
if (notLinux) console.warn(`deviceFacts not checked: device-node copies are made on Linux only (this is ${process.platform})`);

describe.skipIf(notLinux)('deviceFacts', () => {
  it('only for root: an ordinary user\'s run binds the host\'s nodes, which that user does not own', () => {
    expect(deviceFacts({ HOME: '/home/user' }, 1000)).toBeUndefined();
  });

  it('for root, `dev` in isolate\'s state directory (which every sandbox hides)', () => {
    const owns = () => true;
    expect(deviceFacts({ HOME: '/root' }, 0, owns)?.dir).toBe('/root/.local/state/isolate/dev');
    expect(deviceFacts({ HOME: '/root', XDG_STATE_HOME: '/var/lib/state' }, 0, owns)?.dir).toBe('/var/lib/state/isolate/dev');
  });

  it('for root with neither XDG_STATE_HOME nor HOME absolute: refused (E_SANDBOX_SETUP), never the host\'s nodes', () => {
    expect(() => deviceFacts({ HOME: 'relative', XDG_STATE_HOME: 'also-relative' }, 0, () => true)).toThrow(/no place for its copies of the device nodes/);
  });

  it('not for the root of a rootless container, whose host nodes belong to nobody', () => {
    expect(deviceFacts({ HOME: '/root' }, 0, () => false)).toBeUndefined();
  });
});

describe('the device nodes', () => {
  it('are the six of bwrap\'s --dev, with their device numbers as stat reports them', () => {
    expect(DEVICE_NODES.map((n) => `${n.name}=${deviceNumber(n)}`)).toEqual(['null=259', 'zero=261', 'full=263', 'random=264', 'urandom=265', 'tty=1280']);
  });

  it('a run by root binds its copies over the host\'s, with --dev-bind (a read-only bind would be nodev)', () => {
    const args = setupArgs([{ kind: 'dev', path: '/dev', nodes: '/root/.local/state/isolate/dev' }]);
    expect(args.slice(0, 5)).toEqual(['--dev', '/dev', '--dev-bind', '/root/.local/state/isolate/dev/null', '/dev/null']);
    expect(args.filter((a) => a === '--dev-bind')).toHaveLength(DEVICE_NODES.length);
    expect(setupArgs([{ kind: 'dev', path: '/dev' }])).not.toContain('--dev-bind');
  });

  it('with the descriptors run/ opened and checked, it binds them (/proc/self/fd/N), not the copies\' paths, which could be swapped meanwhile', () => {
    const args = setupArgs([{ kind: 'dev', path: '/dev', nodes: '/root/.local/state/isolate/dev' }], 20);
    expect(args.filter((a, i) => args[i - 1] === '--dev-bind')).toEqual(DEVICE_NODES.map((_, i) => `/proc/self/fd/${20 + i}`));
    expect(args.join(' ')).not.toContain('/root/.local/state/isolate/dev');
    // bwrap closes only --bind-fd descriptors: each is bound again under /dev/shm, before the tmpfs that covers it.
    const closes = args.flatMap((a, i) => (a === '--ro-bind-fd' ? [`${args[i + 1]} ${args[i + 2]}`] : []));
    expect(closes).toEqual(DEVICE_NODES.map((n, i) => `${20 + i} /dev/shm/${n.name}`));
    expect(args.lastIndexOf('--ro-bind-fd')).toBeLessThan(args.indexOf('/dev/shm'));
  });

  it('a command line for a person (explain) names the copies by path again, and drops the descriptors\' closers; other --ro-bind-fd stay', () => {
    const dir = '/root/.local/state/isolate/dev';
    const byFd = ['bwrap', '--ro-bind-fd', '6', '/p/.git/config', ...setupArgs([{ kind: 'dev', path: '/dev', nodes: dir }], 7), '--', 'true'];
    const byPath = ['bwrap', '--ro-bind-fd', '6', '/p/.git/config', ...setupArgs([{ kind: 'dev', path: '/dev', nodes: dir }]), '--', 'true'];
    expect(deviceArgsByPath(byFd, { dir, mknod: undefined }, 7)).toEqual(byPath);
    expect(deviceArgsByPath(byPath, undefined, undefined)).toEqual(byPath);
  });
});
