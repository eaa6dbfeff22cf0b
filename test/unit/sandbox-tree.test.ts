/**
 * sandboxTree: the processes under a sandbox's init, found by walking
 * /proc/<pid>/task/<tid>/children, checked here on a real process tree of
 * this host (a python3 process stands in for the init).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxTree } from '../../src/run/sandbox-procs.js';

const ownNamespace = Number(/\d+/.exec(readlinkSync('/proc/self/ns/pid'))?.[0]);
const started: ChildProcess[] = [];

async function until<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

afterEach(() => {
  for (const c of started.splice(0)) {
    for (const pid of c.pid === undefined ? [] : sandboxTree(c.pid, ownNamespace)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    c.kill('SIGKILL');
  }
});

describe.runIf(process.platform === 'linux')('sandboxTree', () => {
  it('finds children, grandchildren, and children forked by a thread other than the main one', async () => {
    // python3 starts `sleep` from a second thread; sh starts python3 and a sleep of its own.
    const code = 'import subprocess, threading, time\nt = threading.Thread(target=lambda: print(subprocess.Popen(["sleep", "30"]).pid, flush=True))\nt.start(); t.join(); time.sleep(30)';
    const c = spawn('sh', ['-c', `sleep 30 & exec python3 -c '${code}'`], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(c);
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const threadChild = await until(() => (/^\d+\n/.test(out) ? Number(out.trim()) : undefined));
    const tree = await until(() => {
      const t = sandboxTree(c.pid as number, ownNamespace);
      return t.includes(threadChild) && t.length >= 3 ? t : undefined;
    });
    // python3 (sh exec'd into it) first, then sh's `sleep 30 &` (now python's child) and the sleep the thread started.
    expect(tree[0]).toBe(c.pid);
    expect(tree).toContain(threadChild);
    expect(tree).toHaveLength(3);
    for (const pid of tree) process.kill(pid, 'SIGKILL');
  });

  it('is empty when the init is not in the expected PID namespace (it exited, or its number was reused)', () => {
    expect(sandboxTree(process.pid, ownNamespace + 1)).toEqual([]);
    expect(sandboxTree(2 ** 22 + 777, ownNamespace)).toEqual([]);
  });
});
