/**
 * Fuzzed bad profiles through the real CLI: a sample of the cases the
 * in-process fuzzer (test/unit/profile-fuzz.test.ts) runs, one of each kind
 * first, each given to `isolate explain --profile FILE -- true`. Each must
 * end in exit 125 with exactly one error message on stderr, naming the file,
 * with no stack trace and no "internal error", and nothing on stdout.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_SEED, generateCases, showCase, writeCase, type FuzzCase } from '../helpers/profile-fuzz.js';
import { STACK_LINE, giveTo, isolateAsync, runners, tempDirFor, type Result } from '../helpers/isolate.js';

const SAMPLE = 30;

/** One case of every kind first, then more in generation order; only cases that must be refused. */
function sample(cases: readonly FuzzCase[], size: number): [number, FuzzCase][] {
  const bad = [...cases.entries()].filter(([, c]) => c.mayLoad !== true);
  const seen = new Set<string>();
  const firsts = bad.filter(([, c]) => !seen.has(c.kind) && seen.add(c.kind) !== undefined);
  const rest = bad.filter((e) => !firsts.includes(e));
  return [...firsts, ...rest].slice(0, size);
}

function verdict(r: Result, blamed: string): string | undefined {
  if (r.status !== 125) return `exit ${String(r.status)} (signal ${String(r.signal)})`;
  if (r.stdout !== '') return `something on stdout: ${r.stdout.slice(0, 200)}`;
  const messages = r.stderr.match(/^isolate:/gm) ?? [];
  if (messages.length !== 1) return `${messages.length} messages on stderr`;
  if (STACK_LINE.test(r.stderr) || /^\s+at /m.test(r.stderr)) return 'a stack trace on stderr';
  if (r.stderr.includes('internal error')) return 'an internal error';
  if (!r.stderr.includes(blamed)) return `the message does not name ${blamed}`;
  return undefined;
}

const RUNNERS = runners();

// The sample is shared out between the runners (as root, and unprivileged when the tests run as root): each case runs once.
describe.each(RUNNERS.map((runner, i) => ({ runner, i, label: runner.label })))('profile fuzzing through the CLI ($label)', ({ runner, i }) => {
  let root: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir: root, cleanup } = tempDirFor(runner, 'isolate-fuzz-cli-'));
  });
  afterAll(() => cleanup());

  it(`its share of ${SAMPLE} bad profiles (seed ${FUZZ_SEED}): exit 125, one message naming the file, no stack trace`, async () => {
    const all = sample(generateCases(FUZZ_SEED, 600), SAMPLE);
    expect(all).toHaveLength(SAMPLE);
    const cases = all.filter((_, k) => k % RUNNERS.length === i);
    const failures: string[] = [];
    // Three at a time: the machine has two cores, and each is a Node start-up.
    for (let i = 0; i < cases.length; i += 3) {
      await Promise.all(
        cases.slice(i, i + 3).map(async ([n, c]) => {
          const dir = join(root, String(n));
          mkdirSync(dir);
          writeCase(c, dir);
          giveTo(runner, dir);
          const r = await isolateAsync(runner, ['explain', '--profile', join(dir, c.files[0]?.name ?? ''), '--', 'true'], { cwd: dir, env: { HOME: dir } });
          const wrong = verdict(r, join(dir, c.blame ?? c.files[0]?.name ?? ''));
          if (wrong !== undefined) failures.push(`case ${n}: ${showCase(c)}\n  => ${wrong}\n  stderr: ${r.stderr.slice(0, 1500)}`);
        }),
      );
    }
    expect(failures, `seed ${FUZZ_SEED} (replay: ISOLATE_FUZZ_SEED=${FUZZ_SEED}): ${failures.length} of ${cases.length} failed:\n${failures.join('\n\n')}`).toEqual([]);
  }, 60_000);
});
