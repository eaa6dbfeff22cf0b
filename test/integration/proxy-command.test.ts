/**
 * isolate proxy: the filtering proxy as a server of its own, started as each
 * runner, with curl (from the test) as its client and an upstream on
 * loopback. Every proxy is stopped by the test that started it.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolate, pollFor, runners, spawnIsolate, tempDirFor, type Runner } from '../helpers/isolate.js';

const BODY = 'upstream says hello';
let upstream: Server;
let UP = 0;

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end(BODY));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  UP = (upstream.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => upstream.close(r));
});

interface Running {
  child: ChildProcess;
  address: string;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

async function startProxy(runner: Runner, cwd: string, args: readonly string[]): Promise<Running> {
  const child = spawnIsolate(runner, ['proxy', ...args], { cwd });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const address = await pollFor(`the proxy's address (${err})`, () => /listening on (\S+)/.exec(err)?.[1], 15_000);
  return { child, address, out: () => out, err: () => err, exited };
}

async function stop(p: Running): Promise<number | null> {
  p.child.kill('SIGTERM');
  return p.exited;
}

function curl(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((r) => {
    execFile('curl', ['-sS', '--max-time', '15', ...args], (e, stdout) => r({ code: e === null ? 0 : Number((e as { code?: number }).code ?? 1), stdout }));
  });
}

function lines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Send `request` over the unix socket and collect the reply until the proxy closes. */
function viaSocket(path: string, request: string): Promise<string> {
  return new Promise((r, reject) => {
    let reply = '';
    const s = connect(path, () => s.write(request));
    s.setEncoding('utf8').on('data', (d: string) => (reply += d));
    s.on('close', () => r(reply));
    s.on('error', reject);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), r(false)));
    s.on('error', () => r(true));
  });
}

describe.each(runners())('isolate proxy $label', (runner) => {
  it('allows and denies by the rules over absolute-URI, CONNECT and SOCKS5, one JSON line each; SIGTERM exits 0 and frees the port', async () => {
    const t = tempDirFor(runner);
    const p = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', `127.0.0.1:${UP}`, '--deny-domain', 'denied.example']);
    try {
      const proxy = `http://${p.address}`;
      const target = `http://127.0.0.1:${UP}/`;
      expect((await curl(['-x', proxy, target])).stdout).toBe(BODY);
      expect((await curl(['-p', '-x', proxy, target])).stdout).toBe(BODY);
      expect((await curl(['--socks5-hostname', p.address, target])).stdout).toBe(BODY);
      const denied = await curl(['-i', '-x', proxy, 'http://denied.example/']);
      expect(denied.stdout).toMatch(/^HTTP\/1\.1 403/);
      expect((await curl(['--socks5-hostname', p.address, 'http://other.example/'])).stdout).not.toContain(BODY);
      expect((await curl(['-p', '-x', proxy, 'http://other.example/'])).stdout).not.toContain(BODY);
    } finally {
      expect(await stop(p)).toBe(0);
      t.cleanup();
    }
    const events = lines(p.out());
    expect(events.map((e) => [e['protocol'], e['decision']])).toEqual([
      ['http', 'allowed'],
      ['connect', 'allowed'],
      ['socks5', 'allowed'],
      ['http', 'denied'],
      ['socks5', 'denied'],
      ['connect', 'denied'],
    ]);
    expect(events[3]?.['rule']).toBe('denied.example');
    expect(p.err()).toMatch(/SIGTERM: stopped \(3 allowed, 3 denied\)/);
    expect(await refused(Number(p.address.split(':')[1]))).toBe(true);
  });

  it('the address guard: a name resolving to 127.0.0.1 is refused unless a host:port rule names it', async () => {
    const t = tempDirFor(runner);
    const wide = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', 'localhost:*']);
    const exact = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', `localhost:${UP}`]);
    try {
      const target = `http://localhost:${UP}/`;
      expect((await curl(['-x', `http://${wide.address}`, target])).stdout).not.toContain(BODY);
      expect((await curl(['--socks5-hostname', wide.address, target])).stdout).not.toContain(BODY);
      expect((await curl(['-x', `http://${exact.address}`, target])).stdout).toBe(BODY);
    } finally {
      expect(await stop(wide)).toBe(0);
      expect(await stop(exact)).toBe(0);
      t.cleanup();
    }
    expect(lines(wide.out()).map((e) => e['decision'])).toEqual(['denied', 'denied']);
    expect(lines(exact.out()).map((e) => e['decision'])).toEqual(['allowed']);
  });

  it('serves 10 concurrent clients, each recorded, in --log rather than on stdout', async () => {
    const t = tempDirFor(runner);
    const log = join(t.dir, 'proxy.jsonl');
    const p = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', `127.0.0.1:${UP}`, '--log', log]);
    try {
      const all = await Promise.all(Array.from({ length: 10 }, () => curl(['-x', `http://${p.address}`, `http://127.0.0.1:${UP}/`])));
      expect(all.map((r) => r.stdout)).toEqual(Array(10).fill(BODY));
    } finally {
      expect(await stop(p)).toBe(0);
    }
    expect(lines(readFileSync(log, 'utf8')).filter((e) => e['decision'] === 'allowed')).toHaveLength(10);
    expect(p.out()).toBe('');
    t.cleanup();
  });

  it('listens on a unix socket and removes it on SIGINT', async () => {
    const t = tempDirFor(runner);
    const sock = join(t.dir, 'proxy.sock');
    const p = await startProxy(runner, t.dir, ['--listen', sock, '--allow-domain', `127.0.0.1:${UP}`]);
    try {
      expect(existsSync(sock)).toBe(true);
      expect(await viaSocket(sock, `GET http://127.0.0.1:${UP}/ HTTP/1.1\r\nHost: 127.0.0.1:${UP}\r\nConnection: close\r\n\r\n`)).toContain(BODY);
    } finally {
      p.child.kill('SIGINT');
      expect(await p.exited).toBe(0);
    }
    expect(existsSync(sock)).toBe(false);
    t.cleanup();
  });

  it('refuses, with 125: a non-loopback --listen, a bad profile, a profile without a filtered network', () => {
    const t = tempDirFor(runner);
    try {
      const remote = isolate(runner, ['proxy', '--listen', '0.0.0.0:0', '--allow-domain', 'example.com'], { cwd: t.dir });
      expect(remote.status).toBe(125);
      expect(remote.stderr).toMatch(/not a loopback address[\s\S]*--allow-remote/);
      const bad = isolate(runner, ['proxy', '--listen', '127.0.0.1:0', '-p', join(t.dir, 'missing.yaml')], { cwd: t.dir });
      expect(bad.status).toBe(125);
      expect(bad.stderr).toMatch(/not found/);
      const none = isolate(runner, ['proxy', '--listen', '127.0.0.1:0', '-p', 'strict'], { cwd: t.dir });
      expect(none.status).toBe(125);
      expect(none.stderr).toMatch(/network mode is/);
    } finally {
      t.cleanup();
    }
  });
});
