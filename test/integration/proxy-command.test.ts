/**
 * isolate proxy: the filtering proxy as a server of its own, started as each
 * runner, with curl (from the test) as its client and an upstream on
 * loopback. Every proxy is stopped by the test that started it.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exportPolicy } from '../../src/index.js';
import { auditRecords, isolate, pollFor, runners, spawnIsolate, tempDirFor, type Runner, START_WAIT_MS } from '../helpers/isolate.js';

const BODY = 'upstream says hello';
/** How long the upstream takes to answer `/slow`. */
const SLOW_MS = 1500;
let upstream: Server;
let UP = 0;
/** Requests for `/slow` the upstream has received. */
let slowSeen = 0;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/slow') {
      slowSeen++;
      setTimeout(() => res.end(BODY), SLOW_MS);
    }
    else res.end(BODY);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  UP = (upstream.address() as AddressInfo).port;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

/** What each test started: undone after it, also when it failed half-way (proxies killed first, then the temp trees). */
const undo: (() => void)[] = [];
afterEach(() => {
  for (const u of undo.splice(0).reverse()) u();
});

/** A temp tree of the runner's, removed after the test whatever happens. */
function tempFor(runner: Runner): ReturnType<typeof tempDirFor> {
  const t = tempDirFor(runner);
  undo.push(t.cleanup);
  return t;
}

interface Running {
  child: ChildProcess;
  address: string;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

async function startProxy(runner: Runner, cwd: string, args: readonly string[]): Promise<Running> {
  const child = spawnIsolate(runner, ['proxy', ...args], { cwd });
  undo.push(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const address = await pollFor(`the proxy's address (${err})`, () => /listening on (\S+)/.exec(err)?.[1], START_WAIT_MS);
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

/** A CONNECT tunnel to the upstream that the client keeps open; resolves once the proxy has answered 200. */
function openTunnel(proxyPort: number): Promise<{ closed: Promise<void>; destroy: () => void }> {
  return new Promise((r, reject) => {
    const s = connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT 127.0.0.1:${UP} HTTP/1.1\r\nHost: 127.0.0.1:${UP}\r\n\r\n`));
    const closed = new Promise<void>((c) => s.on('close', () => c()));
    s.once('data', (d: Buffer) => (d.toString().startsWith('HTTP/1.1 200') ? r({ closed, destroy: () => s.destroy() }) : reject(new Error(d.toString()))));
    s.on('error', () => undefined);
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
    const t = tempFor(runner);
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
    const t = tempFor(runner);
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
    const t = tempFor(runner);
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
    const t = tempFor(runner);
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

  it('--audit-log: the start, then every connection, allowed or denied, are records of a chain that verifies; audit show lists no run', async () => {
    const t = tempFor(runner);
    const log = join(t.dir, 'audit.jsonl');
    const p = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', `127.0.0.1:${UP}`, '--audit-log', log]);
    try {
      expect((await curl(['-x', `http://${p.address}`, `http://127.0.0.1:${UP}/`])).stdout).toBe(BODY);
      expect((await curl(['-x', `http://${p.address}`, 'http://denied.example/'])).stdout).not.toContain(BODY);
      expect((await curl(['--socks5-hostname', p.address, `http://127.0.0.1:${UP}/`])).stdout).toBe(BODY);
    } finally {
      expect(await stop(p)).toBe(0);
    }
    try {
      const [started, ...records] = auditRecords(log);
      expect(started).toMatchObject({ kind: 'proxy-started', seq: 1, proxy: { listen: p.address, pid: p.child.pid }, rules: { allow: [`127.0.0.1:${UP}`], deny: [] } });
      expect(records.map((r) => [r['kind'], r['seq'], (r['event'] as Record<string, unknown>)['protocol'], (r['event'] as Record<string, unknown>)['decision']])).toEqual([
        ['proxy-connection', 2, 'http', 'allowed'],
        ['proxy-connection', 3, 'http', 'denied'],
        ['proxy-connection', 4, 'socks5', 'allowed'],
      ]);
      expect(records[0]?.['proxy']).toEqual({ listen: p.address, pid: p.child.pid });
      expect(isolate(runner, ['audit', 'verify', log], { cwd: t.dir }).status).toBe(0);
      const shown = isolate(runner, ['audit', 'show', '--json', log], { cwd: t.dir });
      expect(shown.status).toBe(0);
      expect(shown.stdout).toBe('');
      expect(lines(p.out())).toHaveLength(3);
    } finally {
      t.cleanup();
    }
  });

  it('SIGTERM: no new connection is taken, a request in flight still gets its answer within the grace period', async () => {
    const t = tempFor(runner);
    const p = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', `127.0.0.1:${UP}`, '--grace', '10s']);
    try {
      const seen = slowSeen;
      const slow = curl(['-x', `http://${p.address}`, `http://127.0.0.1:${UP}/slow`]);
      await pollFor('the request to reach the upstream through the proxy', () => (slowSeen > seen ? true : undefined), 10_000);
      p.child.kill('SIGTERM');
      await pollFor(`the stop notice (${p.err()})`, () => (/waiting up to 10000 ms for those open/.test(p.err()) ? true : undefined), 5_000);
      expect(await refused(Number(p.address.split(':')[1]))).toBe(true);
      expect((await slow).stdout).toBe(BODY);
      expect(await p.exited).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
      t.cleanup();
    }
    expect(lines(p.out()).map((e) => e['decision'])).toEqual(['allowed']);
  });

  it('a client that keeps its tunnel open cannot keep the proxy alive: closed after --grace, recorded, exit 0; a second signal cuts the grace short', async () => {
    const t = tempFor(runner);
    const short = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', `127.0.0.1:${UP}`, '--grace', '1s']);
    const long = await startProxy(runner, t.dir, ['--listen', '127.0.0.1:0', '--allow-domain', `127.0.0.1:${UP}`, '--grace', '1h']);
    const tunnels = [await openTunnel(Number(short.address.split(':')[1])), await openTunnel(Number(long.address.split(':')[1]))];
    try {
      const started = Date.now();
      short.child.kill('SIGTERM');
      await tunnels[0]?.closed;
      expect(await short.exited).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(8_000);
      long.child.kill('SIGTERM');
      await pollFor(`the stop notice (${long.err()})`, () => (/waiting up to/.test(long.err()) ? true : undefined), 5_000);
      long.child.kill('SIGTERM');
      await tunnels[1]?.closed;
      expect(await long.exited).toBe(0);
    } finally {
      for (const tunnel of tunnels) tunnel?.destroy();
      short.child.kill('SIGKILL');
      long.child.kill('SIGKILL');
      t.cleanup();
    }
    expect(lines(short.out()).map((e) => [e['protocol'], e['decision']])).toEqual([['connect', 'allowed']]);
    expect(lines(long.out())).toHaveLength(1);
  });

  it("a Kubernetes export's egress proxy: the Deployment's command line and the rules ConfigMap, run as they are (only the port changed)", async () => {
    const t = tempFor(runner);
    const exported = await exportPolicy(['curl', `http://127.0.0.1:${UP}/`], { format: 'k8s', allowDomain: [`127.0.0.1:${UP}`], denyDomain: ['denied.example'], callerCwd: t.dir, callerEnv: {} });
    const yaml = exported.entries.find((e) => e.path === exported.main);
    const docs = parseAllDocuments(yaml?.kind === 'file' ? yaml.content : '').map((d) => d.toJS() as { kind: string; data?: Record<string, string>; spec?: unknown });
    const rules = docs.find((d) => d.kind === 'ConfigMap' && d.data?.['proxy.yaml'] !== undefined)?.data?.['proxy.yaml'] ?? '';
    const deployment = JSON.parse(JSON.stringify(docs.find((d) => d.kind === 'Deployment'))) as { spec: { template: { spec: { containers: { command: string[] }[] } } } };
    const [program, command, ...args] = deployment.spec.template.spec.containers[0]?.command ?? [];
    expect([program, command]).toEqual(['isolate', 'proxy']);
    writeFileSync(join(t.dir, 'proxy.yaml'), rules);
    const local = args.map((a) => (a === '0.0.0.0:3128' ? '127.0.0.1:0' : a.startsWith('/etc/isolate/') ? join(t.dir, 'proxy.yaml') : a));
    expect(local).toContain('--allow-remote');
    const p = await startProxy(runner, t.dir, local);
    try {
      expect((await curl(['-x', `http://${p.address}`, `http://127.0.0.1:${UP}/`])).stdout).toBe(BODY);
      expect((await curl(['-x', `http://${p.address}`, 'http://denied.example/'])).stdout).not.toContain(BODY);
    } finally {
      expect(await stop(p)).toBe(0);
      t.cleanup();
    }
    expect(lines(p.out()).map((e) => e['decision'])).toEqual(['allowed', 'denied']);
  });

  it('refuses, with 125: a non-loopback --listen, a bad profile, a profile without a filtered network', () => {
    const t = tempFor(runner);
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
      // --audit asked for, and the log cannot be written: the proxy does not serve unrecorded.
      writeFileSync(join(t.dir, 'file'), '');
      const unrecorded = isolate(runner, ['proxy', '--listen', '127.0.0.1:0', '--allow-domain', 'example.com', '--audit-log', join(t.dir, 'file', 'audit.jsonl')], { cwd: t.dir });
      expect(unrecorded.status).toBe(125);
      expect(unrecorded.stderr).not.toMatch(/listening on/);
      expect(unrecorded.stderr).toMatch(/audit/);
    } finally {
      t.cleanup();
    }
  });
});
