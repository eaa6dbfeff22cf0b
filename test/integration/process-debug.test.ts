/**
 * src/process.ts as built: under NODE_DEBUG=execa, execa would print the
 * command line and the output of every process isolate starts (a secret in
 * an argument would reach the terminal or a CI log). debuglog reads
 * NODE_DEBUG when execa is loaded, so this takes a fresh Node process and
 * the built module.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BUILT = fileURLToPath(new URL('../../dist/process.js', import.meta.url));

describe('processStarter (built)', () => {
  it('prints nothing of its own under NODE_DEBUG=execa (execa would log the command line and the output)', () => {
    const script = `const { processStarter } = await import(${JSON.stringify(BUILT)}); const { ended } = (await processStarter())('/bin/echo', ['secret-argument'], { env: {}, cwd: '/', stdio: ['ignore', 'ignore', 'ignore'] }); await ended;`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_DEBUG: 'execa' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('secret-argument');
  });
});
