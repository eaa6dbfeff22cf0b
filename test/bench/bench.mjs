#!/usr/bin/env node
// isolate's benchmark: `npm run bench`. Every figure is a ratio against a
// baseline measured in the same run on the same machine, never an absolute
// time, except the protected-name search (scan.mjs), whose targets are times:
// it prints `find -type d` over the same tree beside them. It prints a table
// and the targets; it does not fail the build.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanBench } from './scan.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
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
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: work, LANG: 'C.UTF-8' };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeSync(file, args, stdio = 'ignore') {
  const out = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(file, args, { cwd: work, env, stdio: typeof stdio === 'function' ? stdio() : stdio });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}`);
    if (i >= WARMUP) out.push(ms);
  }
  return median(out);
}

function spawnWait(file, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}`))));
  });
}

/** Alternate two commands run for run; the median of each and of their per-pair difference (what b adds to a). */
function timePairSync(a, b) {
  const ta = [];
  const tb = [];
  const diff = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const [x, y] = [a, b].map(([file, args]) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(file, args, { cwd: work, env, stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    });
    if (i < WARMUP) continue;
    ta.push(x);
    tb.push(y);
    diff.push(y - x);
  }
  return { a: median(ta), b: median(tb), diff: median(diff) };
}

async function timeAsync(fn) {
  const out = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    if (i >= WARMUP) out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(out);
}

const rows = [];
const row = (name, ms, note = '') => rows.push({ name, ms, note });

try {
  const api = await import(join(repo, 'dist', 'index.js'));
  const explained = await api.explain(['true'], { callerEnv: env, callerCwd: work });
  // The same bwrap invocation isolate makes (seccomp filter included), environment inline instead of piped.
  const rawArgs = [];
  const argv = explained.argv;
  let envDone = false;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--args' || argv[i] === '--json-status-fd') { i++; continue; }
    if (argv[i] === '--' && !envDone) {
      rawArgs.push('--clearenv', '--setenv', 'PATH', env.PATH);
      envDone = true;
    }
    rawArgs.push(argv[i]);
  }
  const planned = await api.plan(['true'], { callerEnv: env, callerCwd: work });
  const seccompFile = join(work, 'filter.bpf');
  writeFileSync(seccompFile, planned.plan.seccomp.program);
  const withSeccomp = (stdio) => [...stdio, 'ignore', 'ignore', openSync(seccompFile, 'r')];
  const minimal = ['--unshare-all', '--unshare-user', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/true'];

  const node0 = timeSync(process.execPath, ['-e', '0']);
  row('node -e 0', node0, 'baseline');
  const bwrapMin = timeSync(argv[0], minimal);
  row('bwrap, minimal sandbox', bwrapMin);
  const bwrapSame = timeSync(argv[0], rawArgs, () => withSeccomp(['ignore', 'ignore', 'ignore']));
  row('bwrap, isolate\'s exact sandbox', bwrapSame, 'baseline');
  const cli = timeSync(process.execPath, [bin, 'run', '--profile', 'default', '--', 'true']);
  row('isolate run --profile default -- true', cli);

  const inProcess = await timeAsync(() => api.run(['true'], { callerEnv: env, callerCwd: work, stdio: 'inherit' }));
  row('API run([\'true\']) in-process', inProcess);
  const rawSpawn = await timeAsync(() => spawnWait(argv[0], rawArgs, { cwd: work, env: {}, stdio: withSeccomp(['ignore', 'ignore', 'ignore']) }));
  row('bwrap, isolate\'s exact sandbox, spawned from Node', rawSpawn, 'baseline');

  // filtered network: start-up, and throughput of a 100 MiB download from a loopback server.
  const filteredArgs = [bin, 'run', '--net', 'filtered', '--allow-domain', 'example.test', '--', 'true'];
  const filteredStart = timeSync(process.execPath, filteredArgs);
  row('isolate run --net filtered --allow-domain example.test -- true', filteredStart);
  // What the filter itself adds (proxy, forwarder, clean-up): runs alternating with plain ones, so load drift cancels out.
  const pair = timePairSync([process.execPath, [bin, 'run', '--profile', 'default', '--', 'true']], [process.execPath, filteredArgs]);
  row('  the filter\'s own cost (filtered minus plain, alternating runs)', pair.diff);
  const SIZE = 100 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-length': String(SIZE) });
    let sent = 0;
    const pump = () => {
      while (sent < SIZE) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const url = `http://127.0.0.1:${port}/big`;
  const curlSpeed = async (args) => {
    const out = await new Promise((resolve, reject) => {
      const c = spawn(args[0], args.slice(1), { cwd: work, env, stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      c.stdout.on('data', (d) => (text += d));
      c.on('error', reject);
      c.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${args.join(' ')} exited ${code}`))));
    });
    return Number(out.trim().split(/\s+/).pop());
  };
  // Direct and proxied downloads alternate, so a change in the machine's load hits both alike.
  const directSpeeds = [];
  const proxiedSpeeds = [];
  for (let i = 0; i < 5; i++) {
    directSpeeds.push(await curlSpeed(['curl', '-s', '--noproxy', '*', '-o', '/dev/null', '-w', '%{speed_download}', url]));
    proxiedSpeeds.push(await curlSpeed([process.execPath, bin, 'run', '--allow-domain', `127.0.0.1:${port}`, '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{speed_download}', url]));
  }
  const direct = median(directSpeeds);
  const proxied = median(proxiedSpeeds);
  server.close();

  const rss = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(repo, 'dist', 'bundle', 'main.js'))}); const c = await m.main(['run', '--', 'true']); process.stdout.write(String(process.resourceUsage().maxRSS)); process.exitCode = c;`],
    { cwd: work, env, encoding: 'utf8' },
  );
  const rssMiB = Number(rss.stdout) / 1024;

  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`isolate benchmark: median of ${RUNS} runs after ${WARMUP} warm-up runs, ${new Date().toISOString()}`);
  for (const r of rows) console.log(`  ${r.name.padEnd(w)}  ${r.ms.toFixed(1).padStart(7)} ms  ${r.note}`);
  const targets = [
    ['isolate run -- true / node -e 0', cli / node0, 1.3],
    ['isolate run -- true / bwrap (same sandbox)', cli / bwrapSame, null],
    ['in-process run / raw bwrap spawned from Node', inProcess / rawSpawn, 3],
    ['filtered run -- true / node -e 0', filteredStart / node0, 1.6],
  ];
  console.log('\nratios:');
  for (const [name, ratio, target] of targets) {
    const verdict = target === null ? '' : ratio <= target ? `  target <= ${target}x: met` : `  target <= ${target}x: MISSED`;
    console.log(`  ${name.padEnd(46)} ${ratio.toFixed(2)}x${verdict}`);
  }
  const share = proxied / direct;
  console.log(`  ${'100 MiB through the proxy / direct loopback'.padEnd(46)} ${(share * 100).toFixed(0)}% (${(proxied / 1048576).toFixed(0)} vs ${(direct / 1048576).toFixed(0)} MiB/s)  target >= 80%: ${share >= 0.8 ? 'met' : 'MISSED'}`);
  console.log(`  ${'peak RSS of isolate during a run'.padEnd(46)} ${rssMiB.toFixed(1)} MiB  target <= 60 MiB: ${rssMiB <= 60 ? 'met' : 'MISSED'}`);
  console.log(`  (the Node start-up alone: ${node0.toFixed(1)} ms; isolate's own share of a CLI run: ${(cli - node0 - bwrapSame).toFixed(1)} ms)`);
  scanBench(bin, scanSizes);
} finally {
  rmSync(work, { recursive: true, force: true });
}
