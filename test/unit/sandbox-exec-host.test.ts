/**
 * host.ts's facts for the sandbox-exec backend. They are gathered only on
 * macOS; the pieces are tested here with a stand-in program and temp paths.
 */
import { chmodSync, existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DYNAMIC_PORTS, gatherHostFacts, productVersionFromPlist, randomProxyPort, runDirBase, sandboxExecFacts } from '../../src/host/facts.js';
import type { Policy } from '../../src/profile/types.js';

const PLIST = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>BuildID</key>
	<string>C7A3A9E4-1A57-11EF-9E3D-2E9B4D6C1F3A</string>
	<key>ProductBuildVersion</key>
	<string>24D70</string>
	<key>ProductCopyright</key>
	<string>1983-2025 Apple Inc.</string>
	<key>ProductName</key>
	<string>macOS</string>
	<key>ProductUserVisibleVersion</key>
	<string>15.3.1</string>
	<key>ProductVersion</key>
	<string>15.3.1</string>
	<key>iOSSupportVersion</key>
	<string>18.3</string>
</dict>
</plist>
`;

describe('sandbox-exec host facts', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-sbx-host-')));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const program = join(dir, 'sandbox-exec');
  writeFileSync(program, '#!/bin/sh\nexit 0\n', { mode: 0o755 });

  it('reads ProductVersion from SystemVersion.plist', () => {
    expect(productVersionFromPlist(PLIST)).toBe('15.3.1');
    expect(productVersionFromPlist('<dict><key>ProductVersion</key>\n  <string>10.15.7</string></dict>')).toBe('10.15.7');
    expect(productVersionFromPlist('<dict><key>ProductName</key><string>macOS</string></dict>')).toBeUndefined();
    expect(productVersionFromPlist('<key>ProductVersion</key><string>"; rm -rf /</string>')).toBeUndefined();
  });

  it('a fresh run directory under the real path of $TMPDIR, not created; the version; no port unless filtered', () => {
    const link = join(dir, 'tmp-link');
    symlinkSync(dir, link);
    const facts = sandboxExecFacts({ TMPDIR: `${link}/` }, { filtered: false, path: program, version: () => '15.3.1' });
    expect(facts?.path).toBe(program);
    expect(facts?.version).toBe('15.3.1');
    expect(facts?.proxyPort).toBeUndefined();
    const runDir = facts?.runDir ?? '';
    expect(dirname(runDir)).toBe(dir);
    expect(runDir).toMatch(new RegExp(`/isolate-run-${process.pid}-[0-9a-f]{12}$`));
    expect(existsSync(runDir)).toBe(false);
    // A new name every time.
    expect(sandboxExecFacts({ TMPDIR: dir }, { filtered: false, path: program, version: () => undefined })?.runDir).not.toBe(runDir);
  });

  it('filtered: a proxy port among the dynamic ports', () => {
    const facts = sandboxExecFacts({ TMPDIR: dir }, { filtered: true, path: program, version: () => undefined });
    expect(facts?.proxyPort).toBeGreaterThanOrEqual(DYNAMIC_PORTS.first);
    expect(facts?.proxyPort).toBeLessThanOrEqual(DYNAMIC_PORTS.last);
    const ports = new Set(Array.from({ length: 200 }, () => randomProxyPort()));
    for (const p of ports) expect(p >= 49152 && p <= 65535 && Number.isInteger(p)).toBe(true);
    expect(ports.size).toBeGreaterThan(150);
  });

  it('falls back to os.tmpdir() when $TMPDIR is missing or relative', () => {
    const real = realpathSync(tmpdir());
    expect(runDirBase({})).toBe(real);
    expect(runDirBase({ TMPDIR: 'relative/dir' })).toBe(real);
    expect(runDirBase({ TMPDIR: join(dir, 'does-not-exist') })).toBe(real);
  });

  it('no facts when the program is missing or not executable', () => {
    expect(sandboxExecFacts({}, { filtered: false, path: join(dir, 'missing'), version: () => undefined })).toBeUndefined();
    const plain = join(dir, 'not-executable');
    writeFileSync(plain, '');
    chmodSync(plain, 0o644);
    // Root may execute nothing without an x bit either.
    expect(sandboxExecFacts({}, { filtered: false, path: plain, version: () => undefined })).toBeUndefined();
    expect(sandboxExecFacts({}, { filtered: false, path: dir, version: () => undefined })).toBeUndefined();
  });

  it('are not gathered on Linux (nothing of sandbox-exec on the Linux path)', () => {
    if (process.platform !== 'linux') return;
    const policy = {
      profile: { name: 't', sources: [], description: '' },
      filesystem: { mounts: [], protect: [], skipped: [] },
      network: { mode: 'filtered', allow: [], deny: [] },
      environment: { pass: [], set: {}, secrets: [] },
      process: { cwd: dir, hostname: 'isolate' },
      limits: { killAfterMs: 2000, enforce: 'rlimit' },
      syscalls: { preset: 'none', deny: [], allow: [] },
      commands: { allow: [], deny: [] },
      audit: { enabled: false, log: undefined, required: false },
    } as Policy;
    for (const backend of ['auto', 'sandbox-exec'] as const) {
      expect(gatherHostFacts(policy, ['true'], { env: { PATH: '/usr/bin:/bin' }, backend }).sandboxExec).toBeUndefined();
    }
  });
});
