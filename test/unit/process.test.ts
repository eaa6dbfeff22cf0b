/**
 * src/process.ts: the one way isolate starts a process, over execa, with
 * execa's defaults that differ from isolate's needs chosen deliberately. A
 * started process gets exactly the environment and descriptors given, its
 * status is data (no rejection), its output is streamed (not buffered), and
 * starting one leaves the caller's process alone (no exit hook, no signal
 * handlers).
 */
import { describe, expect, it } from 'vitest';
import { processStarter, probeSync } from '../../src/process.js';
import { runHelper } from '../../src/run/io/helper.js';

async function start(args: string[], env: Record<string, string> = {}) {
  return (await processStarter())('/bin/sh', ['-c', ...args], { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
}

function read(stream: NodeJS.ReadableStream | null): Promise<string> {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return new Promise((resolve) => stream?.on('end', () => resolve(text)));
}

describe('processStarter', () => {
  it('the environment is exactly the one given: nothing of isolate\'s own (execa would extend process.env)', async () => {
    process.env['ISOLATE_TEST_LEAK'] = 'leaked';
    try {
      const { child, ended } = await start(['env'], { ONLY: 'this' });
      const out = read(child.stdout);
      expect(await ended).toEqual({ exitCode: 0, signal: null });
      // sh itself may add PWD, SHLVL, _ (it starts with none of them in its environment).
      const names = (await out).split('\n').filter(Boolean).map((l) => l.split('=')[0]);
      expect(names).toContain('ONLY');
      expect(names.filter((n) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(n ?? ''))).toEqual(['ONLY']);
    } finally {
      delete process.env['ISOLATE_TEST_LEAK'];
    }
  });

  it('a status other than 0 and a signal are results, not rejections', async () => {
    expect(await (await start(['exit 3'])).ended).toEqual({ exitCode: 3, signal: null });
    expect(await (await start(['kill -TERM $$'])).ended).toEqual({ exitCode: null, signal: 'SIGTERM' });
  });

  it('a program that cannot be started is a spawnError, never a rejection', async () => {
    const { ended } = (await processStarter())('/nonexistent/launcher', [], { env: {}, cwd: '/', stdio: ['ignore', 'ignore', 'ignore'] });
    const end = await ended;
    expect(end).toMatchObject({ exitCode: null, signal: null });
    expect(end.spawnError?.message).toMatch(/ENOENT/);
  });

  it('output is streamed to the reader as written, the final newline included', async () => {
    const { child, ended } = await start(['printf "a\\nb\\n"; printf err >&2']);
    const [out, err] = [read(child.stdout), read(child.stderr)];
    await ended;
    expect(await out).toBe('a\nb\n');
    expect(await err).toBe('err');
  });

  it('leaves the caller\'s process alone: no signal handler installed (execa\'s exit hook would install them)', async () => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
    const before = signals.map((s) => process.listenerCount(s));
    const { child, ended } = await start(['exit 0']);
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
    expect(child.pid).toBeGreaterThan(0);
    await ended;
  });

  it('passes a descriptor isolate holds on the slot given, and an extra pipe as child.stdio[n]', async () => {
    const { child, ended } = (await processStarter())('/bin/sh', ['-c', 'read -r line <&3; echo "got $line" >&4'], {
      env: {},
      cwd: '/',
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    });
    const reply = read(child.stdio[4] as NodeJS.ReadableStream);
    (child.stdio[3] as NodeJS.WritableStream).end('hello\n');
    expect(await ended).toEqual({ exitCode: 0, signal: null });
    expect(await reply).toBe('got hello\n');
  });
});

describe('runHelper: a helper read to its end, bounded', () => {
  it('kills a helper that writes more than its bound, and says the output is cut', async () => {
    const started = Date.now();
    const r = await runHelper('/bin/sh', ['-c', 'while :; do echo xxxxxxxxxxxxxxxx; done'], { env: {}, timeoutMs: 20_000, maxStdout: 1024 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r).toMatchObject({ truncated: true, timedOut: false, signal: 'SIGKILL' });
    expect(r.stdout.length).toBe(1024);
  });

  it('kills a helper that takes longer than its time', async () => {
    const r = await runHelper('/bin/sh', ['-c', 'echo early; exec sleep 30'], { env: {}, timeoutMs: 200, maxStdout: 1024 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', stdout: 'early\n' });
  });
});

describe('probeSync', () => {
  it('returns what the probe printed, with an empty environment', () => {
    expect(probeSync('/bin/sh', ['-c', 'echo "out ${HOME-unset}"; echo err >&2'], 5000)).toEqual({ stdout: 'out unset\n', stderr: 'err\n' });
  });

  it('a probe that cannot run, or runs too long, says nothing', () => {
    expect(probeSync('/nonexistent/probe', [], 5000)).toEqual({ stdout: '', stderr: '' });
    expect(probeSync('/bin/sh', ['-c', 'sleep 5'], 100)).toEqual({ stdout: '', stderr: '' });
  });
});
