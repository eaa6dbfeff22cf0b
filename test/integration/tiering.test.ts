/**
 * src/tiering.ts as built: the CLI starts without V8's optimizing compiler
 * and turns it back on for long work. Seen through V8's own trace of what
 * it optimises (--trace-opt), in a fresh Node process: nothing while
 * deferred, the hot function once allowed again.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BUILT = fileURLToPath(new URL('../../dist/tiering.js', import.meta.url));

/** A hot function called often enough that V8 optimises it in well under a second. */
const HOT = 'function hotLoop(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; } const work = () => { for (let i = 0; i < 3000; i++) hotLoop(2000); };';

function traced(body: string): { before: string; after: string } {
  const script = `const t = await import(${JSON.stringify(BUILT)}); ${HOT} ${body}`;
  const r = spawnSync(process.execPath, ['--trace-opt', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const [before = '', after = ''] = r.stdout.split('--switch--');
  return { before, after };
}

describe('tiering (built)', () => {
  it('optimises nothing while deferred, and the hot function once allowed', () => {
    const { before, after } = traced(`t.deferOptimizer(); work(); console.log('--switch--'); t.allowOptimizer(); work();`);
    expect(before).not.toMatch(/hotLoop/);
    expect(after).toMatch(/completed (optimizing|compiling).*hotLoop/);
  });

  it('turns the optimizer back on by itself when the process runs long', () => {
    const { after } = traced(`t.deferOptimizer(); console.log('--switch--'); await new Promise((r) => setTimeout(r, 400)); work();`);
    expect(after).toMatch(/completed (optimizing|compiling).*hotLoop/);
  });

  it('is never off in a process that did not defer it (the API in a host program)', () => {
    const { before } = traced(`t.allowOptimizer(); work(); console.log('--switch--');`);
    expect(before).toMatch(/completed (optimizing|compiling).*hotLoop/);
  });
});
