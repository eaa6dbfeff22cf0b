/**
 * The cgroup support, without a real cgroup: detection against made-up
 * hosts, the plan for v1 and v2, and the run-time steps against a plain
 * directory standing in for cgroupfs.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectCgroup, parseMountinfo, type CgroupProbe } from '../../src/host/cgroup.js';
import { cgroupLimits } from '../../src/backends/cgroup.js';
import type { CgroupFacts, HostFacts } from '../../src/backends/types.js';
import type { Limits } from '../../src/profile/limits.js';
import { RunCgroup, eventCount, sweepStale } from '../../src/run/cgroup.js';
import { withCgroupOutcome } from '../../src/run/resolve/cgroup.js';

const UNIFIED = '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
const HYBRID = [
  '30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw',
  '31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,memory',
  '32 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,pids',
].join('\n');

function probe(over: { selfCgroup?: string; mountinfo?: string; files?: Record<string, string>; writable?: string[] }): CgroupProbe {
  const files = over.files ?? {};
  const writable = new Set(over.writable ?? []);
  return {
    selfCgroup: over.selfCgroup ?? '0::/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope\n',
    mountinfo: over.mountinfo ?? UNIFIED,
    read: (p) => files[p],
    writable: (p) => writable.has(p),
  };
}

const APP = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice';

describe('cgroup detection', () => {
  it('parses mountinfo, octal escapes included, and keeps only cgroup mounts', () => {
    const m = parseMountinfo(`${HYBRID}\n40 25 0:30 / /mnt/with\\040space rw - cgroup2 cgroup2 rw\n41 25 8:1 / / rw - ext4 /dev/sda1 rw`);
    expect(m.map((x) => x.point)).toEqual(['/sys/fs/cgroup/unified', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/mnt/with space']);
    expect(m[1]?.superOptions).toContain('memory');
  });

  it('v2, delegated: the run cgroup goes beside this process\'s own, in a parent this user may write', () => {
    const f = detectCgroup(
      probe({ files: { [`${APP}/cgroup.subtree_control`]: 'cpu memory pids', '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids' }, writable: [APP, `${APP}/cgroup.procs`] }),
      { memory: true, pids: true },
      1000,
      'isolate-1-ab',
    );
    expect(f).toEqual({ version: 2, parents: { memory: APP, pids: APP }, name: 'isolate-1-ab' });
  });

  it('v2, not delegated: unusable, and says how to fix it', () => {
    const f = detectCgroup(probe({ files: { [`${APP}/cgroup.subtree_control`]: 'memory pids', '/sys/fs/cgroup/cgroup.controllers': 'memory pids' } }), { memory: true, pids: false }, 1000, 'n');
    expect(f.version).toBeUndefined();
    expect(f.unusable?.reason).toContain(`${APP} is not delegated`);
    expect(f.unusable?.fix).toContain('Delegate=yes');
  });

  it('v2 without the controller enabled for children: unusable, naming the controller', () => {
    const f = detectCgroup(
      probe({ files: { [`${APP}/cgroup.subtree_control`]: 'memory', '/sys/fs/cgroup/cgroup.controllers': 'memory pids' }, writable: [APP, `${APP}/cgroup.procs`] }),
      { memory: true, pids: true },
      1000,
      'n',
    );
    expect(f.version).toBeUndefined();
    expect(f.unusable?.reason).toMatch(/the pids controller is not enabled/);
  });

  it('hybrid host as root: v2 has no controllers, v1 is used inside this process\'s own cgroups', () => {
    const f = detectCgroup(
      probe({
        mountinfo: HYBRID,
        selfCgroup: '8:pids:/ci\n4:memory:/ci/job\n0::/\n',
        files: { '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb', '/sys/fs/cgroup/unified/cgroup.subtree_control': '' },
        writable: ['/sys/fs/cgroup/memory/ci/job', '/sys/fs/cgroup/memory/ci/job/cgroup.procs', '/sys/fs/cgroup/pids/ci', '/sys/fs/cgroup/pids/ci/cgroup.procs'],
      }),
      { memory: true, pids: true },
      0,
      'n',
    );
    expect(f).toEqual({ version: 1, parents: { memory: '/sys/fs/cgroup/memory/ci/job', pids: '/sys/fs/cgroup/pids/ci' }, name: 'n' });
  });

  it('hybrid host as an ordinary user: nothing usable, both reasons given', () => {
    const f = detectCgroup(
      probe({ mountinfo: HYBRID, selfCgroup: '8:pids:/\n4:memory:/\n0::/\n', files: { '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb' } }),
      { memory: true, pids: false },
      1000,
      'n',
    );
    expect(f.version).toBeUndefined();
    expect(f.unusable?.reason).toMatch(/no memory controller \(a hybrid hierarchy.*; and .*not writable/);
  });

  it('a container whose cgroup mount shows only its own subtree maps the path into the mount', () => {
    const f = detectCgroup(
      probe({
        mountinfo: '30 25 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
        selfCgroup: '0::/docker/abc/sub/leaf\n',
        files: { '/sys/fs/cgroup/sub/cgroup.subtree_control': 'memory pids', '/sys/fs/cgroup/cgroup.controllers': 'memory pids' },
        writable: ['/sys/fs/cgroup/sub', '/sys/fs/cgroup/sub/cgroup.procs'],
      }),
      { memory: true, pids: true },
      0,
      'n',
    );
    expect(f.parents?.memory).toBe('/sys/fs/cgroup/sub');
  });

  it('a cgroup path outside what the mount shows is not used', () => {
    const f = detectCgroup(
      probe({ mountinfo: '30 25 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw', selfCgroup: '0::/elsewhere/x\n', writable: ['/sys/fs/cgroup'] }),
      { memory: true, pids: false },
      0,
      'n',
    );
    expect(f.version).toBeUndefined();
  });
});

const host = (cgroup: CgroupFacts | undefined): HostFacts => ({ uid: 0, ...(cgroup === undefined ? {} : { cgroup }) }) as HostFacts;
const limits = (over: Partial<Limits>): Limits => ({ killAfterMs: 2000, enforce: 'rlimit', ...over });
const launcher = { processes: 2, name: 'bwrap' };

describe('cgroup plan', () => {
  it('no memory or process limit: no cgroup, nothing said', () => {
    expect(cgroupLimits(limits({ cpuSeconds: 3 }), host({ version: 2, parents: { memory: '/c', pids: '/c' }, name: 'isolate-1-a' }), launcher)).toEqual({ summary: [] });
  });

  it('v2: one directory, memory.max without swap, the OOM group, pids.max counting the launcher', () => {
    const { plan, summary } = cgroupLimits(limits({ memoryBytes: 64 * 1024 * 1024, processes: 10 }), host({ version: 2, parents: { memory: '/c', pids: '/c' }, name: 'isolate-1-a' }), launcher);
    expect(plan).toEqual({
      version: 2,
      dirs: ['/c/isolate-1-a'],
      writes: [
        { file: '/c/isolate-1-a/memory.max', value: String(64 * 1024 * 1024) },
        { file: '/c/isolate-1-a/memory.swap.max', value: '0', optional: true },
        { file: '/c/isolate-1-a/memory.oom.group', value: '1', optional: true },
        { file: '/c/isolate-1-a/pids.max', value: '12' },
      ],
      procs: ['/c/isolate-1-a/cgroup.procs'],
      events: { memory: '/c/isolate-1-a/memory.events', peak: '/c/isolate-1-a/memory.peak', pids: '/c/isolate-1-a/pids.events' },
    });
    expect(summary.join('\n')).toMatch(/memory: 64M for the whole sandbox \(cgroup v2 memory.max/);
    expect(summary.join('\n')).toMatch(/processes: 10 .*pids.max 12, counting 2 of bwrap's own/);
  });

  it('a launcher counted at the start (an OCI runtime): room for it until then, and the count to add to pids.current before the command starts', () => {
    const runtime = { processes: 10, name: "runc's threads and the init", countedAtStart: { later: 1, name: 'the network forwarder' } };
    const { plan, summary } = cgroupLimits(limits({ processes: 40 }), host({ version: 1, parents: { memory: '/m', pids: '/p' }, name: 'isolate-1-a' }), runtime);
    expect(plan?.writes).toEqual([{ file: '/p/isolate-1-a/pids.max', value: '50' }]);
    expect(plan?.pidsAtStart).toEqual({ current: '/p/isolate-1-a/pids.current', max: '/p/isolate-1-a/pids.max', add: 41 });
    expect(summary.join('\n')).toMatch(/processes: 40 .*pids.max, set before the command starts to what the cgroup then holds \(runc's threads and the init\) plus 40, plus 1 for the network forwarder; 50 while the runtime starts/);
    expect(cgroupLimits(limits({ processes: 40 }), host({ version: 2, parents: { memory: '/c', pids: '/c' }, name: 'isolate-1-a' }), launcher).plan?.pidsAtStart).toBeUndefined();
  });

  it('v1: a directory per controller hierarchy', () => {
    const { plan } = cgroupLimits(limits({ memoryBytes: 1024, processes: 3 }), host({ version: 1, parents: { memory: '/m/own', pids: '/p/own' }, name: 'isolate-1-a' }), launcher);
    expect(plan?.dirs).toEqual(['/m/own/isolate-1-a', '/p/own/isolate-1-a']);
    expect(plan?.procs).toEqual(['/m/own/isolate-1-a/cgroup.procs', '/p/own/isolate-1-a/cgroup.procs']);
    expect(plan?.writes.map((w) => w.file)).toEqual(['/m/own/isolate-1-a/memory.limit_in_bytes', '/m/own/isolate-1-a/memory.memsw.limit_in_bytes', '/p/own/isolate-1-a/pids.max']);
    expect(plan?.events).toEqual({ memory: '/m/own/isolate-1-a/memory.oom_control', peak: '/m/own/isolate-1-a/memory.max_usage_in_bytes', pids: '/p/own/isolate-1-a/pids.events' });
  });

  it('enforce: cgroup without memory or process limits: a cgroup of its own, for accounting', () => {
    const { plan, summary } = cgroupLimits(limits({ enforce: 'cgroup' }), host({ version: 1, parents: { memory: '/m', pids: '/m' }, name: 'isolate-1-a' }), launcher);
    expect(plan).toEqual({ version: 1, dirs: ['/m/isolate-1-a'], writes: [], procs: ['/m/isolate-1-a/cgroup.procs'], events: { peak: '/m/isolate-1-a/memory.max_usage_in_bytes' } });
    expect(summary[0]).toMatch(/a cgroup of its own/);
  });

  it('no usable cgroup: rlimits only, said so; with enforce: cgroup, refused naming the reason and the fix', () => {
    const none: CgroupFacts = { version: undefined, unusable: { reason: 'R-reason', fix: 'F-fix' }, name: 'n' };
    const r = cgroupLimits(limits({ memoryBytes: 1024 }), host(none), launcher);
    expect(r.plan).toBeUndefined();
    expect(r.summary[0]).toMatch(/^cgroup: none usable \(R-reason\)/);
    let err: unknown;
    try {
      cgroupLimits(limits({ memoryBytes: 1024, enforce: 'cgroup' }), host(none), launcher);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E_CGROUP_UNAVAILABLE', detail: 'R-reason' });
    expect((err as { fix: string }).fix).toContain('F-fix');
  });
});

describe('the run cgroup on a stand-in directory', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const fake = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'isolate-unit-cg-'));
    dirs.push(d);
    return d;
  };

  it('attach fails closed when the cgroup has no cgroup.procs', async () => {
    const root = fake();
    const dir = join(root, 'isolate-1-ab');
    const cg = RunCgroup.create({ version: 2, dirs: [dir], writes: [], procs: [join(dir, 'cgroup.procs')], events: {} });
    await expect(cg.attach(1)).rejects.toThrow(/cannot move the sandbox into its cgroup/);
  });

  it('creates the directory and writes the limits in order, into existing files only; remove() takes it away', async () => {
    const root = fake();
    const dir = join(root, 'isolate-1-ab');
    // Stand-ins for the kernel's files (a plain directory has none; cgroupfs makes them with the directory).
    const kernel = join(root, 'kernel');
    mkdirSync(kernel);
    writeFileSync(join(kernel, 'memory.max'), '');
    writeFileSync(join(kernel, 'pids.max'), '');
    const cg = RunCgroup.create({
      version: 2,
      dirs: [dir],
      writes: [
        { file: join(kernel, 'memory.max'), value: '100' },
        { file: join(kernel, 'pids.max'), value: '7' },
      ],
      procs: [join(dir, 'cgroup.procs')],
      events: {},
    });
    expect(existsSync(dir)).toBe(true);
    expect(readFileSync(join(kernel, 'memory.max'), 'utf8')).toBe('100');
    expect(readFileSync(join(kernel, 'pids.max'), 'utf8')).toBe('7');
    writeFileSync(join(dir, 'cgroup.procs'), ''); // the kernel's file
    await cg.attach(4242);
    expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).toBe('4242');
    rmSync(join(dir, 'cgroup.procs')); // a real cgroup directory goes with its kernel files
    await cg.remove();
    expect(existsSync(dir)).toBe(false);
  });

  it('sets pids.max from pids.current at the start; fails closed (a setup error) when the count cannot be read or the limit written', () => {
    const root = fake();
    const dir = join(root, 'isolate-1-ab');
    const at = { current: join(root, 'pids.current'), max: join(root, 'pids.max'), add: 40 };
    const cg = RunCgroup.create({ version: 1, dirs: [dir], writes: [], procs: [join(dir, 'cgroup.procs')], events: {}, pidsAtStart: at });
    expect(cg.atStart(undefined)).toMatchObject({ code: 'E_SANDBOX_SETUP' });
    writeFileSync(at.current, '11\n');
    expect(cg.atStart(undefined)).toMatchObject({ code: 'E_SANDBOX_SETUP' }); // no pids.max to write: never created
    writeFileSync(at.max, '50');
    expect(cg.atStart(undefined)).toBeUndefined();
    expect(readFileSync(at.max, 'utf8')).toBe('51');
    writeFileSync(at.current, 'max\n');
    expect(cg.atStart(undefined)).toMatchObject({ code: 'E_SANDBOX_SETUP' });
    expect(RunCgroup.create({ version: 1, dirs: [join(root, 'isolate-2-ab')], writes: [], procs: [], events: {} }).atStart(undefined)).toBeUndefined();
  });

  it('initInside: the command starts only when the init is in every one of the run\'s cgroups or one inside it (where the runtime made the container\'s)', () => {
    const root = fake();
    const dirs = [join(root, 'memory', 'isolate-1-ab'), join(root, 'pids', 'isolate-1-ab')];
    for (const d of dirs) mkdirSync(dirname(d));
    const cg = RunCgroup.create({ version: 1, dirs, writes: [], procs: dirs.map((d) => join(d, 'cgroup.procs')), events: {}, initInside: true });
    // The stand-ins of the kernel's files: the runtime (pid 10) in the run's cgroups, the init (pid 42) in the container's inside the first.
    for (const d of dirs) writeFileSync(join(d, 'cgroup.procs'), '10\n');
    mkdirSync(join(dirs[0] ?? '', 'container'));
    writeFileSync(join(dirs[0] ?? '', 'container', 'cgroup.procs'), '42\n');
    expect(cg.atStart(42)).toMatchObject({ code: 'E_SANDBOX_SETUP', detail: `pid 42 is in none of ${dirs[1] ?? ''}` });
    mkdirSync(join(dirs[1] ?? '', 'container'));
    writeFileSync(join(dirs[1] ?? '', 'container', 'cgroup.procs'), '42\n');
    expect(cg.atStart(42)).toBeUndefined();
    expect(cg.atStart(43)).toMatchObject({ code: 'E_SANDBOX_SETUP', message: expect.stringContaining('not inside the cgroup') as unknown });
    expect(cg.atStart(undefined)).toMatchObject({ code: 'E_SANDBOX_SETUP', detail: 'the sandbox\'s init was not found' });
  });

  it('never creates a limit file that does not exist: a required one fails closed (kernfs would answer EACCES, not ENOENT, to a create)', () => {
    const root = fake();
    const dir = join(root, 'isolate-1-ab');
    expect(() => RunCgroup.create({ version: 2, dirs: [dir], writes: [{ file: join(dir, 'memory.max'), value: '1' }], procs: [], events: {} })).toThrow(
      /cannot set up the cgroup/,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('fails closed when a limit cannot be written, and leaves nothing behind', () => {
    const root = fake();
    const dir = join(root, 'isolate-1-ab');
    expect(() => RunCgroup.create({ version: 1, dirs: [dir], writes: [{ file: join(root, 'missing', 'pids.max'), value: '5' }], procs: [], events: {} })).toThrow(
      /cannot set up the cgroup/,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('an optional file that does not exist is skipped; a required one is not', () => {
    const root = fake();
    const dir = join(root, 'isolate-1-ab');
    const optional = { file: join(dir, 'memory.swap.max'), value: '0', optional: true };
    RunCgroup.create({ version: 2, dirs: [dir], writes: [optional], procs: [], events: {} });
    expect(existsSync(dir)).toBe(true);
  });

  it('refuses a directory that is not a run cgroup name', () => {
    const root = fake();
    expect(() => RunCgroup.create({ version: 2, dirs: [join(root, 'user.slice')], writes: [], procs: [], events: {} })).toThrow(/cgroup/);
    expect(existsSync(join(root, 'user.slice'))).toBe(false);
  });

  it('an existing directory of the same name is an error, not reused', () => {
    const root = fake();
    mkdirSync(join(root, 'isolate-1-ab'));
    expect(() => RunCgroup.create({ version: 2, dirs: [join(root, 'isolate-1-ab')], writes: [], procs: [], events: {} })).toThrow(
      expect.objectContaining({ code: 'E_SANDBOX_SETUP', detail: expect.stringMatching(/EEXIST/) }),
    );
    expect(existsSync(join(root, 'isolate-1-ab'))).toBe(true);
  });

  it('sweeps the empty cgroups of dead isolate processes; never one that is not empty, a live one, or anything else', () => {
    const root = fake();
    const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
    for (const n of [`isolate-${dead}-aa`, `isolate-${dead}-cc`, `isolate-${process.pid}-bb`, 'isolate-x', 'user.slice']) mkdirSync(join(root, n));
    // Not empty: in cgroupfs, rmdir fails while processes remain (here: a file stands in for them). Nothing is killed.
    writeFileSync(join(root, `isolate-${dead}-cc`, 'cgroup.procs'), '1\n');
    sweepStale(root);
    expect(existsSync(join(root, `isolate-${dead}-aa`))).toBe(false);
    expect(existsSync(join(root, `isolate-${dead}-cc`, 'cgroup.procs'))).toBe(true);
    expect(existsSync(join(root, `isolate-${process.pid}-bb`))).toBe(true);
    expect(existsSync(join(root, 'isolate-x'))).toBe(true);
    expect(existsSync(join(root, 'user.slice'))).toBe(true);
  });

  it('reads the events: OOM kills (v1 and v2), pids.max hits, and the peak', () => {
    const root = fake();
    const dir = join(root, 'isolate-1-ab');
    const cg = RunCgroup.create({
      version: 2,
      dirs: [dir],
      writes: [],
      procs: [],
      events: { memory: join(dir, 'memory.events'), pids: join(dir, 'pids.events'), peak: join(dir, 'memory.peak') },
    });
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 1\n');
    writeFileSync(join(dir, 'pids.events'), 'max 0\n');
    writeFileSync(join(dir, 'memory.peak'), '67108864\n');
    expect(cg.outcome()).toEqual({ memoryKilled: true, processesHit: false, peakMemoryBytes: 67108864 });
    expect(eventCount('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n', 'oom_kill')).toBe(3);
    expect(eventCount(undefined, 'max')).toBe(0);
  });
});

describe('which cgroup limit ended the run', () => {
  const base = { exitCode: 137, signal: 'SIGKILL', started: true, durationMs: 1, resources: { userCpuMs: 1, systemCpuMs: 1, peakMemoryBytes: 999 } };
  it('memory when the OOM killer acted; processes when a fork failed; the cgroup\'s peak replaces the sampled one', () => {
    expect(withCgroupOutcome(base, { memoryKilled: true, processesHit: false, peakMemoryBytes: 10 })).toMatchObject({ limit: 'memory', resources: { peakMemoryBytes: 10 } });
    expect(withCgroupOutcome({ ...base, exitCode: 1, signal: null }, { memoryKilled: false, processesHit: true, peakMemoryBytes: undefined })).toMatchObject({
      limit: 'processes',
      resources: { peakMemoryBytes: 999 },
    });
  });
  it('never over a limit already known, an error, or a successful exit', () => {
    expect(withCgroupOutcome({ ...base, limit: 'timeout' }, { memoryKilled: true, processesHit: true, peakMemoryBytes: 1 }).limit).toBe('timeout');
    expect(withCgroupOutcome({ ...base, exitCode: 0, signal: null }, { memoryKilled: true, processesHit: true, peakMemoryBytes: 1 }).limit).toBeUndefined();
  });
});
