#!/usr/bin/env node
// isolate's benchmark: `npm run bench`. Every target is a ratio against a
// baseline measured in the same run on the same machine, never an absolute
// time: the commands compared run alternately, round after round, and each
// ratio is the median of the per-round ratios, so a change in the machine's
// load hits both sides alike. It prints a table (wall time and user CPU) and
// the targets, met or MISSED; it does not fail the build. The protected-name
// search (scan.mjs) is the exception: its targets are times, and it prints
// `find -type d` over the same tree beside them. CPU is what the
// kernel charges to the processes the runner waits for, and the ones they
// wait for: bwrap returns the command's status without reaping the sandbox's
// init, so the sandbox's own set-up (its mounts) shows in neither column.
//
// The baselines are the sandbox isolate builds, run by bubblewrap directly:
// the plan's own arguments (seccomp filter, protected names and all), with
// the arguments bwrap reads from a pipe written inline, and each protected
// path isolate hands over as a descriptor (--ro-bind-fd N p, --bind-fd N p)
// bound by path instead (--ro-bind p p): the same mounts. The placeholders
// for missing protected names are created once, before the rounds.
import { spawn, spawnSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanBench } from './scan.mjs';
import { credentialsBench } from './credentials.mjs';
import { sendBody } from './body.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const { deviceArgsByPath } = await import(join(repo, 'dist', 'backends', 'devices.js'));
const bin = join(repo, 'bin', 'isolate.js');
// `npm run bench -- scan`: only the protected-name search (BENCH_SCAN_SIZES=10000,50000 to choose the trees).
const scanSizes = process.env.BENCH_SCAN_SIZES?.split(',').map(Number);
if (process.argv[2] === 'scan') {
  scanBench(bin, scanSizes);
  process.exit(0);
}
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = 5;
const work = mkdtempSync(join(tmpdir(), 'isolate-bench-'));
// A project directory and a separate home, as a user has them. The baselines run in a second project
// directory, where the placeholders stay (isolate's runs create and remove their own).
const project = join(work, 'project');
const baseProject = join(work, 'baseline');
const home = join(work, 'home');
for (const dir of [project, baseProject, home]) mkdirSync(dir);
// Node is timed without NODE_EXTRA_CA_CERTS (it makes every start ~30 ms slower): the environment is only this.
// This Node comes first on PATH: bin/isolate.js, started as npm links it, runs the node it finds there.
const env = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: home, LANG: 'C.UTF-8' };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const TICK_MS = 1000 / 100; // USER_HZ
/** The user and system CPU of every child this process has waited for, in ms (the kernel sums it exactly; /proc rounds the sum to ticks). */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime: fields 16 and 17 of the line, the 14th and 15th after the command name
  return { user: Number(fields[13]) * TICK_MS, sys: Number(fields[14]) * TICK_MS };
}

/** One run of a command to its end: wall ms, user and system CPU ms (its whole tree). */
function runOnce({ file, args, stdio, cwd = project }) {
  const cpu = childrenCpuMs();
  const t = process.hrtime.bigint();
  const s = typeof stdio === 'function' ? stdio() : ['ignore', 'ignore', 'ignore'];
  const r = spawnSync(file, args, { cwd, env, stdio: process.env.BENCH_DEBUG ? s.map((x, i) => (i === 2 ? 'inherit' : x)) : s });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  for (const fd of s) if (typeof fd === 'number') closeSync(fd);
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status ?? r.signal}`);
  const after = childrenCpuMs();
  return { ms, user: after.user - cpu.user, sys: after.sys - cpu.sys };
}

/**
 * Run the commands in turn, round after round. Per command: median wall ms, mean user and system CPU ms.
 * `per(round)` is called with each round's wall times by name, for per-round ratios.
 */
function rounds(commands, per = () => undefined) {
  const lists = () => Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  const [wall, user, sys] = [lists(), lists(), lists()];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const round = {};
    for (const [name, c] of Object.entries(commands)) {
      const r = runOnce(c);
      round[name] = r.ms;
      if (i >= WARMUP) {
        wall[name].push(r.ms);
        user[name].push(r.user);
        sys[name].push(r.sys);
      }
    }
    if (i >= WARMUP) per(round);
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return Object.fromEntries(Object.keys(commands).map((k) => [k, { ms: median(wall[k]), user: mean(user[k]), sys: mean(sys[k]) }]));
}

function spawnWait(file, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}`))));
  });
}

/**
 * bwrap's argv for the plan's very sandbox, run without isolate: the piped
 * arguments inline where --args reads them, path descriptors bound by path,
 * the status to /dev/null, the seccomp filter from a file, a root run's
 * device copies by path (as explain shows them), the command without the
 * gate isolate answers. `swap` replaces
 * paths of the run (the proxy's directory) with the bench's own.
 */
function sameSandbox(plan, seccompFile, swap = new Map()) {
  for (const p of plan.pathFds ?? []) if (p.create === true) closeSync(openSync(p.path, 'a'));
  // bwrap itself, without what isolate starts it under (setpriv --pdeathsig KILL --: plan.launcherAt), which is isolate's own cost.
  const argv = deviceArgsByPath(plan.argv, plan.devices, plan.deviceFd).map((a) => swap.get(a) ?? a).slice(plan.launcherAt ?? 0);
  const out = [];
  let statusFd;
  let seccompFd;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      // The command without the gate before it (plan.fds.gate: a shell that waits for isolate's go), which is isolate's own cost.
      const gate = plan.fds.gate === undefined ? -1 : argv.indexOf('isolate-gate', i);
      out.push('--', ...argv.slice(gate === -1 ? i + 1 : gate + 1));
      break;
    }
    if (a === '--args') out.push(...plan.pipedArgs);
    else if (a === '--ro-bind-fd' || a === '--bind-fd') out.push(a === '--ro-bind-fd' ? '--ro-bind' : '--bind', argv[i + 2], argv[i + 2]);
    else if (a === '--json-status-fd') statusFd = Number(argv[i + 1]);
    else if (a === '--seccomp') seccompFd = Number(argv[i + 1]);
    else {
      out.push(a);
      continue;
    }
    i += a === '--ro-bind-fd' || a === '--bind-fd' ? 2 : 1;
  }
  writeFileSync(seccompFile, plan.seccomp.program);
  const top = Math.max(statusFd ?? 2, seccompFd ?? 2);
  const stdio = () => {
    const s = ['ignore', 'ignore', 'ignore'];
    for (let fd = 3; fd <= top; fd++) s.push(fd === seccompFd ? openSync(seccompFile, 'r') : fd === statusFd ? openSync('/dev/null', 'w') : 'ignore');
    return s;
  };
  const args = [...(statusFd === undefined ? [] : ['--json-status-fd', String(statusFd)]), ...(seccompFd === undefined ? [] : ['--seccomp', String(seccompFd)]), ...out];
  return { file: argv[0], args, stdio, cwd: baseProject };
}

/** Whether bin/isolate.js will start from the snapshot (its key, as the sh part of bin/isolate.js reads it, names this Node and bundle). */
function snapshotNote() {
  const dir = join(repo, 'dist', 'snapshot');
  try {
    const [format, node, version, hash] = readFileSync(join(dir, 'isolate.key'), 'utf8').split('\n');
    const fresh = format === 'isolate-snapshot 1' && node === realpathSync(process.execPath) && version === process.version && hash === readFileSync(join(dir, 'isolate.cjs.sha256'), 'utf8').trim();
    return fresh ? 'from the start-up snapshot' : 'WITHOUT the snapshot (its key does not hold: npm run build)';
  } catch {
    return 'WITHOUT the snapshot (none built: npm run build)';
  }
}

/** A listening unix socket named proxy.sock in its own directory, for the filtered sandbox's socat to find. */
async function fakeProxyDir() {
  const dir = join(work, 'net');
  mkdirSync(dir, { mode: 0o700 });
  const server = createNetServer((s) => s.destroy());
  await new Promise((r) => server.listen(join(dir, 'proxy.sock'), r));
  return { dir, server };
}

/** Peak RSS in MiB of one CLI run (GNU time's %M: the largest process of the run), or undefined without /usr/bin/time. */
function peakRssMiB(args) {
  if (!existsSync('/usr/bin/time')) return undefined;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...args], { cwd: project, env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const kib = Number(r.stderr.trim().split('\n').pop());
  return Number.isFinite(kib) ? kib / 1024 : undefined;
}

async function throughput() {
  const SIZE = 100 * 1024 * 1024;
  const server = createHttpServer((_req, res) => sendBody(res, SIZE));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const url = `http://127.0.0.1:${port}/big`;
  const curlSpeed = async (args) => {
    const out = await new Promise((resolve, reject) => {
      const c = spawn(args[0], args.slice(1), { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      c.stdout.on('data', (d) => (text += d));
      c.on('error', reject);
      c.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${args.join(' ')} exited ${code}`))));
    });
    return Number(out.trim().split(/\s+/).pop());
  };
  // Direct and proxied downloads alternate, so a change in the machine's load hits both alike.
  const direct = [];
  const proxied = [];
  for (let i = 0; i < 5; i++) {
    direct.push(await curlSpeed(['curl', '-s', '--noproxy', '*', '-o', '/dev/null', '-w', '%{speed_download}', url]));
    proxied.push(await curlSpeed([bin, 'run', '--allow-domain', `127.0.0.1:${port}`, '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{speed_download}', url]));
  }
  server.close();
  return { direct: median(direct), proxied: median(proxied) };
}

/** One run of the same bwrap spawned from Node: its wall ms. */
async function bwrapOnce(bwrapSame) {
  const stdio = bwrapSame.stdio();
  const t = process.hrtime.bigint();
  await spawnWait(bwrapSame.file, bwrapSame.args, { cwd: baseProject, env: {}, stdio });
  for (const fd of stdio) if (typeof fd === 'number') closeSync(fd);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** `fn` and the same bwrap spawned from Node, alternating round after round: each one's wall ms, and the per-round ratios. */
async function againstBwrap(bwrapSame, fn) {
  const times = [];
  const baseline = [];
  const ratios = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    const a = Number(process.hrtime.bigint() - t) / 1e6;
    const b = await bwrapOnce(bwrapSame);
    if (i < WARMUP) continue;
    times.push(a);
    baseline.push(b);
    ratios.push(a / b);
  }
  return { times, baseline, ratios };
}

/** `isolate mcp` of the checkout at `root`, started in `cwd` as an assistant starts it, and a `run` of `true` through it. */
async function mcpServer(root, cwd) {
  const sdk = join(repo, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', 'client');
  const { Client } = await import(join(sdk, 'index.js'));
  const { StdioClientTransport } = await import(join(sdk, 'stdio.js'));
  const client = new Client({ name: 'isolate-bench', version: '1' });
  await client.connect(new StdioClientTransport({ command: join(root, 'bin', 'isolate.js'), args: ['mcp', '--profile', 'default'], cwd, env, stderr: 'inherit' }));
  const call = async () => {
    const r = await client.callTool({ name: 'run', arguments: { argv: ['true'] } });
    if (r.isError || r.structuredContent?.exitCode !== 0) throw new Error(`isolate mcp run exited ${r.structuredContent?.exitCode}: ${JSON.stringify(r.content)}`);
  };
  return { client, call };
}

/**
 * BENCH_BEFORE=<another built checkout> with `mcp`: its server and this one's, and its API's run() and this
 * one's, each in a project of its own, alternating within every round with the same bwrap, so that both builds
 * meet the same load. Per build: median wall ms and the median of the per-round ratios; then 20 calls at once.
 */
async function beforeAndAfter(bwrapSame, before, opts) {
  const then = join(work, 'before-project');
  mkdirSync(then);
  const servers = { before: await mcpServer(before, then), now: await mcpServer(repo, project) };
  const apis = { before: await import(join(before, 'dist', 'index.js')), now: await import(join(repo, 'dist', 'index.js')) };
  const runs = Object.fromEntries(Object.entries(apis).map(([k, a]) => [k, () => a.run(['true'], { ...opts, callerCwd: k === 'now' ? project : then, stdio: 'inherit' })]));
  const steps = [...Object.entries(servers).map(([k, s]) => [`mcp ${k}`, s.call]), ...Object.entries(runs).map(([k, fn]) => [`run() ${k}`, fn])];
  const seen = Object.fromEntries(steps.map(([k]) => [k, { ms: [], ratio: [] }]));
  const timed = async (fn) => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const b = await bwrapOnce(bwrapSame);
      for (const [k, fn] of i % 2 === 0 ? steps : [...steps].reverse()) {
        const ms = await timed(fn);
        if (i < WARMUP) continue;
        seen[k].ms.push(ms);
        seen[k].ratio.push(ms / b);
      }
    }
    const burst = {};
    for (const [k, s] of Object.entries(servers)) burst[k] = await timed(() => Promise.all(Array.from({ length: 20 }, s.call)));
    return { seen, burst };
  } finally {
    for (const s of Object.values(servers)) await s.client.close();
  }
}

/**
 * isolate mcp, started as an assistant starts it (bin/isolate.js mcp) and
 * spoken to by the MCP SDK's own client over stdio: a `run` of `true`
 * against the same bwrap spawned from Node, alternating, then 20 calls at
 * once (the server runs 4 at a time and queues the rest).
 */
async function mcpRounds(bwrapSame) {
  const { client, call } = await mcpServer(repo, project);
  try {
    const { times: calls, ratios } = await againstBwrap(bwrapSame, call);
    const t = process.hrtime.bigint();
    const burst = await Promise.allSettled(Array.from({ length: 20 }, call));
    const burstMs = Number(process.hrtime.bigint() - t) / 1e6;
    return { call: median(calls), ratio: median(ratios), burst: burstMs, burstOk: burst.filter((r) => r.status === 'fulfilled').length };
  } finally {
    await client.close();
  }
}

/** runc, when installed: the OCI runtime that starts an exported bundle. */
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p));

/**
 * The default profile's sandbox for `true` as an OCI bundle (isolate export
 * --format oci), started by `runc run`, against the same sandbox started by
 * bwrap, alternating; and `isolate run --backend oci -- true` beside
 * `isolate run -- true` (bwrap), in the same rounds. In a project of its
 * own: the runtime leaves its placeholders for missing protected names behind.
 */
async function ociRounds(api, bwrapSame) {
  const ociProject = join(work, 'oci-project');
  mkdirSync(ociProject);
  const { prepareOutDir, writeEntries } = await import(join(repo, 'dist', 'cli', 'export-write.js'));
  const exported = await api.exportPolicy(['true'], { callerEnv: env, callerCwd: ociProject, profile: 'default', format: 'oci' });
  const bundle = join(work, 'oci-bundle');
  prepareOutDir(bundle, process.getuid?.() ?? -1);
  writeEntries(bundle, exported.entries);
  const runc = { file: RUNC, args: ['--root', join(work, 'runc-state'), 'run', '--bundle', bundle, `isolate-bench-${process.pid}`], cwd: ociProject };
  const runArgs = ['run', '--profile', 'default'];
  const cliOci = { file: bin, args: [...runArgs, '--backend', 'oci', '--', 'true'], cwd: ociProject };
  const cliBwrap = { file: bin, args: [...runArgs, '--backend', 'bwrap', '--', 'true'], cwd: ociProject };
  const ratios = [];
  const cliRatios = [];
  const r = rounds({ runc, bwrapSame, cliOci, cliBwrap }, (t) => {
    ratios.push(t.runc / t.bwrapSame);
    cliRatios.push(t.cliOci / t.cliBwrap);
  });
  return { ...r, ratio: median(ratios), cliRatio: median(cliRatios) };
}

/**
 * The start-up targets alone, with BENCH_BEFORE's CLI (a built checkout) run in the same rounds: per build, the median of
 * the per-round ratios against node -e 0 plus the same bwrap (plain, and filtered with socat), and the CPU of a run.
 */
async function startupRounds(node0, bwrapSame, bwrapFiltered, before) {
  const args = { plain: ['run', '--profile', 'default', '--', 'true'], filtered: ['run', '--profile', 'default', '--net', 'filtered', '--allow-domain', 'example.test', '--', 'true'] };
  const builds = { now: bin, ...(before ? { before: join(before, 'bin', 'isolate.js') } : {}) };
  const commands = { node0, bwrapSame, bwrapFiltered };
  for (const [k, b] of Object.entries(builds)) for (const [m, a] of Object.entries(args)) commands[`${k} ${m}`] = { file: b, args: a };
  const ratios = Object.fromEntries(Object.keys(builds).flatMap((k) => [[`${k} plain`, []], [`${k} filtered`, []]]));
  const r = rounds(commands, (t) => {
    for (const k of Object.keys(builds)) {
      ratios[`${k} plain`].push(t[`${k} plain`] / (t.node0 + t.bwrapSame));
      ratios[`${k} filtered`].push(t[`${k} filtered`] / (t.node0 + t.bwrapFiltered));
    }
  });
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`start-up, ${RUNS} rounds after ${WARMUP}, node ${process.version}, load average ${load}; now: ${snapshotNote()}${before ? `; before: ${before}` : ''}`);
  for (const [k, v] of Object.entries(r)) {
    const ratio = ratios[k] === undefined ? '' : `  ${median(ratios[k]).toFixed(2)}x (target <= 1.25x)`;
    console.log(`  ${k.padEnd(16)} ${v.ms.toFixed(1).padStart(7)} ms  user ${v.user.toFixed(1).padStart(6)} ms  sys ${v.sys.toFixed(1).padStart(6)} ms${ratio}`);
  }
}

const table = [];
const line = (name, r, note = '') => table.push({ name, ...r, note });

try {
  const api = await import(join(repo, 'dist', 'index.js'));
  const opts = { callerEnv: env, callerCwd: project, profile: 'default' };
  const baseOpts = { ...opts, callerCwd: baseProject };
  // One run first: run by root, it makes isolate's copies of the device nodes that the plan binds (src/run/device-nodes.ts).
  await api.run(['true'], { ...baseOpts, stdio: 'inherit' });
  const plain = (await api.plan(['true'], baseOpts)).plan;
  const filtered = (await api.plan(['true'], { ...baseOpts, net: 'filtered', allowDomain: ['example.test'] })).plan;
  const proxy = await fakeProxyDir();
  const runDir = filtered.argv[filtered.argv.indexOf('/run/isolate') - 1];
  const bwrapSame = sameSandbox(plain, join(work, 'plain.bpf'));
  const bwrapFiltered = sameSandbox(filtered, join(work, 'filtered.bpf'), new Map([[runDir, proxy.dir]]));

  if (process.argv[2] === 'oci') {
    // `npm run bench -- oci`: only the OCI runtime's start-up against bubblewrap's.
    if (RUNC === undefined) throw new Error('runc is not installed (apt-get install runc)');
    const o = await ociRounds(api, bwrapSame);
    console.log(`OCI bundle (default profile, true), ${RUNS} rounds after ${WARMUP}: runc run ${o.runc.ms.toFixed(1)} ms, bwrap ${o.bwrapSame.ms.toFixed(1)} ms (medians); runc / bwrap ${o.ratio.toFixed(2)}x (median of the per-round ratios; no target)`);
    console.log(`  user CPU: runc ${o.runc.user.toFixed(1)} ms, bwrap ${o.bwrapSame.user.toFixed(1)} ms; sys CPU: runc ${o.runc.sys.toFixed(1)} ms, bwrap ${o.bwrapSame.sys.toFixed(1)} ms`);
    console.log(`isolate run -- true, same rounds: --backend oci ${o.cliOci.ms.toFixed(1)} ms, --backend bwrap ${o.cliBwrap.ms.toFixed(1)} ms (medians); oci / bwrap ${o.cliRatio.toFixed(2)}x (median of the per-round ratios; no target)`);
    console.log(`  user CPU: oci ${o.cliOci.user.toFixed(1)} ms, bwrap ${o.cliBwrap.user.toFixed(1)} ms; sys CPU: oci ${o.cliOci.sys.toFixed(1)} ms, bwrap ${o.cliBwrap.sys.toFixed(1)} ms`);
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  if (process.argv[2] === 'mcp' && process.env.BENCH_BEFORE) {
    const { seen, burst } = await beforeAndAfter(bwrapSame, process.env.BENCH_BEFORE, opts);
    console.log(`${RUNS} rounds after ${WARMUP}, before = ${process.env.BENCH_BEFORE}; each against the same bwrap in its round (targets: mcp <= 1.3x, run() <= 1.2x)`);
    for (const [k, v] of Object.entries(seen)) console.log(`  ${k.padEnd(11)} ${median(v.ms).toFixed(1).padStart(7)} ms  ${median(v.ratio).toFixed(2)}x`);
    console.log(`  20 calls at once: before ${burst.before.toFixed(0)} ms, now ${burst.now.toFixed(0)} ms`);
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  if (process.argv[2] === 'mcp') {
    // `npm run bench -- mcp`: only the MCP server's rounds.
    const m = await mcpRounds(bwrapSame);
    const inProcess = await againstBwrap(bwrapSame, () => api.run(['true'], { ...opts, stdio: 'inherit' }));
    console.log(`isolate mcp, ${RUNS} rounds after ${WARMUP}: run ['true'] ${m.call.toFixed(1)} ms (median), ${m.ratio.toFixed(2)}x the same bwrap spawned from Node (target <= 1.3x); 20 concurrent calls: ${m.burstOk}/20 succeeded in ${m.burst.toFixed(0)} ms`);
    console.log(`  beside it, the API's run() in-process: ${median(inProcess.times).toFixed(1)} ms, ${median(inProcess.ratios).toFixed(2)}x; that bwrap: ${median(inProcess.baseline).toFixed(1)} ms`);
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  const node0 = { file: process.execPath, args: ['-e', '0'] };
  if (process.argv[2] === 'startup') {
    // `npm run bench -- startup`: only the CLI's start-up rounds; BENCH_BEFORE=<another built checkout> adds its CLI to the same rounds.
    await startupRounds(node0, bwrapSame, bwrapFiltered, process.env.BENCH_BEFORE);
    proxy.server.close();
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
  if (plain.pathFds.length !== (await api.plan(['true'], opts)).plan.pathFds.length) throw new Error('the baseline project is not like the measured one');
  // As npm links it: bin/isolate.js started through its #!/bin/sh line (from the start-up snapshot when it is fresh).
  const cliArgs = ['run', '--profile', 'default', '--', 'true'];
  const filteredArgs = ['run', '--profile', 'default', '--net', 'filtered', '--allow-domain', 'example.test', '--', 'true'];
  const cli = { file: bin, args: cliArgs };
  const cliFiltered = { file: bin, args: filteredArgs };
  // The plain bundle (`node bin/isolate.js`), without the snapshot.
  const cliPlain = { file: process.execPath, args: [bin, ...cliArgs] };

  const plainRatios = [];
  const filteredRatios = [];
  const filterShare = [];
  const r = rounds({ node0, bwrapSame, cli, cliPlain, bwrapFiltered, cliFiltered }, (t) => {
    plainRatios.push(t.cli / (t.node0 + t.bwrapSame));
    filteredRatios.push(t.cliFiltered / (t.node0 + t.bwrapFiltered));
    filterShare.push(t.cliFiltered - t.cli);
  });
  proxy.server.close();
  line('node -e 0', r.node0, 'baseline');
  line("bwrap, isolate's sandbox (default profile)", r.bwrapSame, 'baseline');
  line('isolate run --profile default -- true', r.cli, snapshotNote());
  line('  the same, node bin/isolate.js (no snapshot)', r.cliPlain);
  line("bwrap, isolate's filtered sandbox, socat started", r.bwrapFiltered, 'baseline');
  line('isolate run --net filtered --allow-domain example.test -- true', r.cliFiltered);
  line("  the filter's own share (filtered minus plain, per round)", { ms: median(filterShare) });

  // In-process: the API's run() against the same bwrap spawned from Node, alternating.
  const { times: inProcess, baseline: rawSpawn, ratios: apiRatios } = await againstBwrap(bwrapSame, async () => {
    const report = await api.run(['true'], { ...opts, stdio: 'inherit' });
    if (report.exitCode !== 0) throw new Error(`API run exited ${report.exitCode}: ${JSON.stringify(report.error)}`);
  });
  line("API run(['true']) in-process", { ms: median(inProcess) });
  line("bwrap, isolate's sandbox, spawned from Node", { ms: median(rawSpawn) }, 'baseline');

  const mcp = await mcpRounds(bwrapSame);
  line("isolate mcp: run ['true'] through the SDK's client over stdio", { ms: mcp.call }, 'warm server');
  line('isolate mcp: 20 concurrent calls, wall time of all', { ms: mcp.burst }, `${mcp.burstOk}/20 succeeded`);

  if (RUNC !== undefined) {
    const o = await ociRounds(api, bwrapSame);
    line("runc run, isolate's sandbox as an OCI bundle (export --format oci)", o.runc, `${o.ratio.toFixed(2)}x bwrap's start-up, per round`);
    line('isolate run --backend oci -- true', o.cliOci, `${o.cliRatio.toFixed(2)}x isolate run --backend bwrap, per round`);
    line('isolate run --backend bwrap -- true (the same rounds)', o.cliBwrap, 'baseline');
  }

  const rss = median([0, 1, 2].map(() => peakRssMiB([bin, ...cliArgs]) ?? NaN));
  const speed = process.env.BENCH_THROUGHPUT === '0' ? undefined : await throughput();

  const w = Math.max(...table.map((t) => t.name.length));
  console.log(`isolate benchmark: ${RUNS} rounds after ${WARMUP} warm-up rounds (wall: median; CPU: mean), node ${process.version}, ${new Date().toISOString()}`);
  console.log(`  ${''.padEnd(w)}     wall   user CPU    sys CPU`);
  const cpu = (ms) => (ms === undefined ? '' : `${ms.toFixed(1)} ms`).padStart(10);
  for (const t of table) console.log(`  ${t.name.padEnd(w)}  ${t.ms.toFixed(1).padStart(7)} ms ${cpu(t.user)} ${cpu(t.sys)}  ${t.note}`);
  const targets = [
    ['isolate run -- true / (node -e 0 + bwrap, same sandbox)', median(plainRatios), 1.25],
    ['filtered run / (node -e 0 + bwrap, same sandbox, socat)', median(filteredRatios), 1.25],
    ['in-process run / the same bwrap spawned from Node', median(apiRatios), 1.2],
    ['isolate mcp run / the same bwrap spawned from Node', mcp.ratio, 1.3],
  ];
  console.log('\ntargets (median of the per-round ratios):');
  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  for (const [name, ratio, target] of targets) console.log(`  ${name.padEnd(58)} ${ratio.toFixed(2)}x   target <= ${target}x: ${verdict(ratio <= target)}`);
  console.log(`  ${'20 concurrent calls through isolate mcp, all succeed'.padEnd(58)} ${mcp.burstOk}/20   target 20/20: ${verdict(mcp.burstOk === 20)}`);
  const rssText = Number.isNaN(rss) ? 'not measured (no /usr/bin/time)' : `${rss.toFixed(1)} MiB   target <= 60 MiB: ${verdict(rss <= 60)}`;
  console.log(`  ${'peak RSS of an isolate run (GNU time %M, median of 3)'.padEnd(58)} ${rssText}`);
  console.log(`  (isolate's own share of a CLI run: ${(r.cli.ms - r.node0.ms - r.bwrapSame.ms).toFixed(1)} ms wall, ${(r.cli.user - r.node0.user - r.bwrapSame.user).toFixed(1)} ms user CPU)`);
  if (speed !== undefined) {
    const share = speed.proxied / speed.direct;
    console.log(`  100 MiB through the proxy / direct loopback: ${(share * 100).toFixed(0)}% (${(speed.proxied / 1048576).toFixed(0)} vs ${(speed.direct / 1048576).toFixed(0)} MiB/s; no target)`);
  }
  scanBench(bin, scanSizes);
  if (process.env.BENCH_CREDENTIALS !== '0') await credentialsBench(bin);
} finally {
  rmSync(work, { recursive: true, force: true });
}
