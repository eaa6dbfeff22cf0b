/**
 * The host kernel is out of reach: /proc/sys and the other host-wide files
 * of /proc stay read-only or hidden, as root and not, on every Linux
 * backend; a profile cannot expose the host's /proc or /dev, nor make /sys
 * writable. Judged by the effect on the host where there is one.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeWithProject, isolate, keyValues, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** A harmless host-wide setting: the burst of the kernel's log rate limit. */
const SETTING = '/proc/sys/kernel/printk_ratelimit_burst';

const readSetting = (): string => readFileSync(SETTING, 'utf8').trim();

describe.each(backendCases('kernel guard checks'))('kernel guard ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let before: string;
  beforeAll(() => {
    p = homeWithProject(runner);
    before = readSetting();
  });
  afterAll(() => {
    // Should the guard ever fail, put the host's value back.
    if (readSetting() !== before) writeFileSync(SETTING, `${before}\n`);
    p.cleanup();
  });

  const run = (args: string[]) => isolate(runner, ['run', '--backend', backend, ...args], { cwd: p.project, env: { ...p.env, ...backendEnv } });

  it('cannot change a host kernel setting through /proc/sys', () => {
    const next = String(Number(before) + 1);
    const r = run(['--', 'sh', '-c', `echo ${next} > ${SETTING} && echo wrote=yes || echo wrote=no`]);
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)['wrote']).toBe('no');
    expect(readSetting()).toBe(before);
  });

  it('cannot write the other host-wide files of /proc, nor read the hidden ones', () => {
    const script = [
      'for f in /proc/sysrq-trigger /proc/sys/kernel/core_pattern; do [ -e "$f" ] || continue; (: > "$f") 2>/dev/null && echo "writable=$f"; done',
      'for f in /proc/keys /proc/timer_list /proc/interrupts /proc/kcore /proc/vmallocinfo /proc/slabinfo; do [ -e "$f" ] || continue; [ -n "$(head -c 1 "$f" 2>/dev/null)" ] && echo "readable=$f"; done',
      'echo "acpi=$(ls -A /proc/acpi 2>/dev/null | wc -l)"',
      'echo done=1',
    ].join('\n');
    const r = run(['--', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('writable=');
    expect(r.stdout).not.toContain('readable=');
    expect(keyValues(r.stdout)['done']).toBe('1');
    if (existsSync('/proc/acpi')) expect(keyValues(r.stdout)['acpi']).toBe('0');
  });

  it('/proc is still the sandbox\'s own and usable', () => {
    const r = run(['--', 'sh', '-c', 'echo "self=$(cat /proc/self/stat | cut -d" " -f1)"; echo "pids=$(ls -d /proc/[0-9]* | wc -l)"; head -c 5 /proc/sys/kernel/ostype; echo']);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(Number(kv['pids'])).toBeLessThan(6);
    expect(r.stdout).toContain('Linux');
  });

  it("refuses a profile that would expose the host's /proc or /dev, or a writable /sys (exit 125)", () => {
    for (const args of [['--allow-read', '/proc'], ['--allow-write', '/dev'], ['--allow-read', '/dev/vda'], ['--allow-write', '/sys']]) {
      const r = run([...args, '--', 'true']);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr).toMatch(/\/proc|\/dev|\/sys/);
    }
  });

  it('a readable /sys is read-only and its firmware directory hidden', () => {
    const r = run(['--allow-read', '/sys', '--', 'sh', '-c', '(: > /sys/kernel/uevent_helper) 2>/dev/null && echo writable=1; echo "firmware=$(ls -A /sys/firmware 2>/dev/null | wc -l)"; echo "cpus=$(ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l)"']);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['writable']).toBeUndefined();
    expect(kv['firmware']).toBe('0');
    expect(Number(kv['cpus'])).toBeGreaterThan(0);
  });
});
