/**
 * Fuzzing profile loading in-process: hundreds of bad profiles through the
 * API's loadProfile (and plan() for the few that load). Each must be refused
 * with an IsolateError of a profile or path code whose message names the
 * file (and the key path when the case knows it); nothing may crash.
 * ISOLATE_FUZZ_SEED=<n> replays another seed; ISOLATE_FUZZ_CASES=<n> runs more.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolateError, loadProfile, plan } from '../../src/index.js';
import type { ErrorCode } from '../../src/errors.js';
import { baseProfile } from '../helpers/fuzz-values.js';
import { FUZZ_SEED as SEED, generateCases, showCase, writeCase, type FuzzCase } from '../helpers/profile-fuzz.js';

const COUNT = Number(process.env['ISOLATE_FUZZ_CASES'] ?? 600);

/** The codes a bad profile may be refused with. */
const PROFILE_CODES: readonly ErrorCode[] = [
  'E_PROFILE_NOT_FOUND', 'E_PROFILE_PARSE', 'E_PROFILE_INVALID', 'E_PROFILE_CYCLE',
  'E_PATH_MISSING', 'E_PATH_INVALID', 'E_ENV_INVALID', 'E_LIMIT_INVALID', 'E_NETWORK_RULE',
];

let root: string;
beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-fuzz-')));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Write the case's files into a fresh directory (with a home of its own); returns the directory. */
function plant(c: FuzzCase, n: number): string {
  const dir = join(root, String(n));
  mkdirSync(join(dir, 'home'), { recursive: true });
  writeCase(c, dir);
  return dir;
}

const options = (dir: string, profile: string) => ({
  profile,
  callerCwd: dir,
  callerEnv: { HOME: join(dir, 'home'), PATH: '/usr/bin:/bin', TMPDIR: '/tmp' },
});

/** What is wrong with the outcome of one case, or undefined when it is right. */
async function verdict(c: FuzzCase, dir: string): Promise<string | undefined> {
  const main = join(dir, c.files[0]?.name ?? 'p.yaml');
  let error: unknown;
  try {
    await loadProfile(options(dir, main));
  } catch (e: unknown) {
    error = e;
  }
  if (error === undefined) {
    if (c.mayLoad !== true) return 'loaded, but the profile is bad';
    try {
      await plan(['true'], options(dir, main));
    } catch (e: unknown) {
      if (!(e instanceof IsolateError)) return `plan() threw ${describeError(e)}`;
    }
    return undefined;
  }
  if (!(error instanceof IsolateError)) return `threw ${describeError(error)}`;
  if (!PROFILE_CODES.includes(error.code)) return `code ${error.code}: ${error.message}`;
  const blamed = join(dir, c.blame ?? c.files[0]?.name ?? '');
  if (!error.message.includes(blamed)) return `the message does not name ${blamed}: ${error.message}`;
  if (c.keyPath !== undefined && c.keyPath !== '' && !error.message.includes(c.keyPath)) return `the message does not name ${c.keyPath}: ${error.message}`;
  if (error.message.includes('\n')) return `the summary is more than one line: ${error.message}`;
  return undefined;
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
}

describe(`profile fuzzing (seed ${SEED}, ${COUNT} cases)`, () => {
  it('control: the unmutated base profile loads and plans', async () => {
    const c: FuzzCase = { kind: 'control', what: 'base', files: [{ name: 'p.json', data: JSON.stringify(baseProfile()) }], mayLoad: true };
    const dir = plant(c, -1);
    const prepared = await loadProfile(options(dir, join(dir, 'p.json')));
    expect(prepared.policy.limits.timeoutMs).toBe(30_000);
    expect(await verdict(c, dir)).toBeUndefined();
  });

  it('every bad profile is refused with a profile error naming the file; nothing crashes', async () => {
    const cases = generateCases(SEED, COUNT);
    const failures: string[] = [];
    for (const [n, c] of cases.entries()) {
      const dir = plant(c, n);
      const wrong = await verdict(c, dir);
      if (wrong !== undefined) failures.push(`case ${n}: ${showCase(c)}\n  => ${wrong}`);
    }
    const kinds = new Set(cases.map((c) => c.kind));
    expect(kinds.size, 'the generator covers every family').toBeGreaterThanOrEqual(20);
    expect(failures, `seed ${SEED} (replay: ISOLATE_FUZZ_SEED=${SEED}): ${failures.length} of ${cases.length} cases failed:\n${failures.slice(0, 15).join('\n\n')}`).toEqual([]);
  }, 60_000);
});
