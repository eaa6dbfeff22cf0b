// The protected-name search on generated projects: `isolate run -- true` the
// first time (no cache) and when the tree has not changed since the last
// run, against the targets (<= 2 s first, <= 300 ms unchanged), with a plain
// `find -type d` over the same tree as this machine's baseline. Each tree is
// generated in a temp directory and removed afterwards. Beside each median
// wall time is the median CPU time (user + system) of the process, which a
// shared machine's load changes far less.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTree } from './tree.mjs';

const FIRST_TARGET_MS = 2000;
const UNCHANGED_TARGET_MS = 300;
/** The search trusts only directories unchanged for 3 s (SETTLE_MS in src/host/scan-cache.ts); an unchanged tree is one older than that. */
const SETTLE_MS = 3500;
/** GNU time, for the CPU time of each run; without it only wall times are shown. */
const TIME = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'isolate-bench-cpu %U %S'] : [];

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** CPU seconds (user + system) GNU time reported on the last line of stderr, in ms. */
function cpuOf(stderr) {
  const m = /isolate-bench-cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr ?? '');
  return m === null ? undefined : (Number(m[1]) + Number(m[2])) * 1000;
}

/** Run argv `times` times; the median wall and CPU time in ms, or the exit status of a failed run. */
function timed(argv, options, times, before = () => {}) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i < times; i++) {
    before();
    const t = process.hrtime.bigint();
    const r = spawnSync(TIME[0] ?? argv[0], [...TIME.slice(1), ...(TIME.length > 0 ? argv : argv.slice(1))], { ...options, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) return { failed: `exit ${r.status}: ${(r.stderr ?? '').split('\n')[0]}` };
    wall.push(Number(process.hrtime.bigint() - t) / 1e6);
    cpu.push(cpuOf(r.stderr));
  }
  return { ms: median(wall), cpuMs: cpu.includes(undefined) ? undefined : median(cpu) };
}

function measure(bin, dirs) {
  const tree = mkdtempSync(join(tmpdir(), 'isolate-bench-tree-'));
  const home = mkdtempSync(join(tmpdir(), 'isolate-bench-home-'));
  try {
    const t = Date.now();
    generateTree(tree, dirs);
    const generateMs = Date.now() - t;
    sleep(SETTLE_MS);
    const options = { cwd: tree, env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' } };
    const find = timed(['find', tree, '-type', 'd'], options, 3);
    const run = [process.execPath, bin, 'run', '--', 'true'];
    const forget = () => rmSync(join(home, '.local', 'state', 'isolate', 'scan-cache'), { recursive: true, force: true });
    const first = timed(run, options, 3, forget);
    timed(run, options, 1);
    const unchanged = timed(run, options, 5);
    return { dirs, generateMs, find, first, unchanged };
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

const cpuText = (r) => (r.cpuMs === undefined ? '' : `  (cpu ${r.cpuMs.toFixed(0)} ms)`);
const show = (r, target) => (r.failed !== undefined ? `refused (${r.failed})` : `${r.ms.toFixed(0).padStart(6)} ms  target <= ${target} ms: ${r.ms <= target ? 'met' : 'MISSED'}${cpuText(r)}`);

/** Measure and print the figures for each tree size. */
export function scanBench(bin, sizes = [10_000, 50_000, 200_000]) {
  console.log(`\nprotected-name search: isolate run -- true in a generated project (median; the tree is generated, then left alone ${SETTLE_MS / 1000} s)`);
  for (const dirs of sizes) {
    const r = measure(bin, dirs);
    console.log(`  ${String(dirs).padStart(7)} directories (generated in ${(r.generateMs / 1000).toFixed(1)} s; find -type d: ${r.find.ms?.toFixed(0)} ms${cpuText(r.find)})`);
    console.log(`    first run       ${show(r.first, FIRST_TARGET_MS)}`);
    console.log(`    unchanged tree  ${show(r.unchanged, UNCHANGED_TARGET_MS)}`);
  }
}
