// Credentials in the benchmark (`npm run bench`, or on its own:
// `node test/bench/credentials.mjs`): an HTTPS download (100 MiB) from a
// loopback server with a test CA made here, direct and through isolate's
// proxy terminating TLS for a credential host (target: >= 50% of direct; random
// bytes, so the scrubber's search costs what it would in an archive);
// the extra time a terminated connection takes to set up (curl's
// time_appconnect, through the proxy with and without a credential for the
// host); and `isolate run -- true` with a credential against without.
// Direct and proxied runs alternate, so a change in the machine's load hits
// both alike; each figure is a median.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sendBody } from './body.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const SIZE = 100 * 1024 * 1024;
const TOKEN = `ghp_${'a1B2c3D4e5'.repeat(3)}xY9z8w`;

function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
}

function certs(dir) {
  const f = (n) => join(dir, n);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=bench CA', '-days', '1', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('s.key'), '-out', f('s.csr')]);
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', f('s.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('ext'), '-out', f('s.pem')]);
}

/** Run argv (async: the server in this process must answer meanwhile); its stdout. */
async function out(argv, cwd, env) {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout.on('data', (d) => (text += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

export async function credentialsBench(bin, rounds = 5) {
  const work = mkdtempSync(join(tmpdir(), 'isolate-bench-cred-'));
  const project = join(work, 'project');
  mkdirSync(project);
  // The caller's home exists, as a user's does: isolate keeps its state there, and never makes a missing home.
  mkdirSync(join(work, 'home'));
  const env = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: join(work, 'home'), LANG: 'C.UTF-8', GITHUB_TOKEN: TOKEN };
  certs(work);
  // The opaque tunnel's client trusts the test CA from the project: the sandbox has a /tmp of its own.
  writeFileSync(join(project, 'ca.pem'), readFileSync(join(work, 'ca.pem')));
  const tls = { key: readFileSync(join(work, 's.key')), cert: readFileSync(join(work, 's.pem')) };
  // Random bytes, as a compressed archive has: the scrubber's search costs more in them than in a run of one byte.
  const chunk = randomBytes(1024 * 1024);
  const server = createServer(tls, (req, res) => sendBody(res, req.url === '/big' ? SIZE : 0, chunk));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const host = `127.0.0.1:${port}`;
  const profile = (withCredential) =>
    [
      'extends: default',
      'network:',
      '  mode: filtered',
      `  allow: ["${host}"]`,
      `  upstreamCa: ${join(work, 'ca.pem')}`,
      ...(withCredential ? ['credentials:', `  - { name: GITHUB_TOKEN, from: { env: GITHUB_TOKEN }, hosts: ["${host}"] }`] : []),
      '',
    ].join('\n');
  writeFileSync(join(work, 'cred.yaml'), profile(true));
  writeFileSync(join(work, 'plain.yaml'), profile(false));
  const curl = (path, fmt, ca) => ['curl', '-s', '-o', '/dev/null', ...(ca ? ['--cacert', ca] : []), '-H', 'Authorization: Bearer $GITHUB_TOKEN', '-w', fmt, `https://${host}${path}`];
  const inSandbox = (prof, argv) => [bin, 'run', '--no-audit', '-p', join(work, prof), '--', 'sh', '-c', argv.map((a) => `'${a}'`).join(' ').replace("'Authorization: Bearer $GITHUB_TOKEN'", '"Authorization: Bearer $GITHUB_TOKEN"')];
  const direct = [];
  const terminated = [];
  const setupTerminated = [];
  const setupOpaque = [];
  const runWith = [];
  const runWithout = [];
  const timed = async (argv) => {
    const t = process.hrtime.bigint();
    await out(argv, project, env);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  try {
    for (let i = 0; i < rounds; i++) {
      direct.push(Number(await out(curl('/big', '%{speed_download}', join(work, 'ca.pem')), project, env)));
      terminated.push(Number(await out(inSandbox('cred.yaml', curl('/big', '%{speed_download}')), project, env)));
      setupTerminated.push(Number(await out(inSandbox('cred.yaml', curl('/small', '%{time_appconnect}')), project, env)));
      // The opaque tunnel: the same host without a credential, the server's own certificate.
      setupOpaque.push(Number(await out(inSandbox('plain.yaml', [...curl('/small', '%{time_appconnect}', 'ca.pem')]), project, env)));
      runWith.push(await timed([bin, 'run', '--no-audit', '-p', join(work, 'cred.yaml'), '--', 'true']));
      runWithout.push(await timed([bin, 'run', '--no-audit', '-p', join(work, 'plain.yaml'), '--', 'true']));
    }
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
  // The median of the per-round ratios: each round's two downloads ran back to back, under the same load.
  const share = median(terminated.map((t, i) => t / direct[i]));
  const range = (xs) => `${(Math.min(...xs) * 100).toFixed(0)}-${(Math.max(...xs) * 100).toFixed(0)}%`;
  console.log('\ncredentials (median of %d rounds; load average %s):', rounds, loadavg().map((l) => l.toFixed(1)).join(' '));
  console.log(`  100 MiB over HTTPS, terminated by the proxy / direct loopback HTTPS: ${(share * 100).toFixed(0)}% (rounds ${range(terminated.map((t, i) => t / direct[i]))}; ${(median(terminated) / 1048576).toFixed(0)} vs ${(median(direct) / 1048576).toFixed(0)} MiB/s)   target >= 50%: ${share >= 0.5 ? 'met' : 'MISSED'}`);
  console.log(`  TLS set-up (curl time_appconnect): terminated ${(median(setupTerminated) * 1000).toFixed(1)} ms, opaque tunnel ${(median(setupOpaque) * 1000).toFixed(1)} ms`);
  console.log(`  isolate run -- true: with a credential ${median(runWith).toFixed(0)} ms, without ${median(runWithout).toFixed(0)} ms`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { fileURLToPath } = await import('node:url');
  await credentialsBench(join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'isolate.js'), Number(process.env.BENCH_RUNS ?? 5));
}
