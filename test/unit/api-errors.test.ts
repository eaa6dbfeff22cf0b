/**
 * The API's error contract: explain, check, plan and loadProfile reject only
 * with an IsolateError; run() resolves to a report with report.error (exit
 * 125) instead of throwing. Nothing here starts a sandbox: every case fails
 * before one would.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IsolateError, check, explain, loadProfile, plan, run } from '../../src/index.js';
import type { ErrorCode } from '../../src/errors.js';

// A loader with a bug: the profile "explode" makes it throw a TypeError.
vi.mock('../../src/profile/load.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/profile/load.js')>();
  return {
    ...real,
    loadMergedProfile: async (ref: string, ctx: Parameters<typeof real.loadMergedProfile>[1]) => {
      if (ref === 'explode') throw new TypeError("Cannot read properties of undefined (reading 'x')");
      return real.loadMergedProfile(ref, ctx);
    },
  };
});

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-api-errors-')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = () => ({ callerCwd: dir, callerEnv: { HOME: dir, PATH: '/usr/bin:/bin' }, audit: { enabled: false } });

function profile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Every entry point, with the same options; each must fail with `code` and a message containing `mentions`. */
async function expectEverywhere(options: unknown, code: ErrorCode, mentions: string): Promise<void> {
  const o = options as Parameters<typeof run>[1];
  const report = await run(['true'], o);
  expect(report.exitCode, JSON.stringify(report.error)).toBe(125);
  expect(report.error?.code).toBe(code);
  expect(report.error?.summary).toContain(mentions);
  for (const [name, call] of [
    ['explain', () => explain(['true'], o)],
    ['check', () => check(['true'], o)],
    ['plan', () => plan(['true'], o)],
    ['loadProfile', () => loadProfile(o)],
  ] as const) {
    const e: unknown = await call().then(() => undefined, (err: unknown) => err);
    expect(e, `${name} must reject`).toBeInstanceOf(IsolateError);
    expect((e as IsolateError).code, name).toBe(code);
    expect((e as IsolateError).message, name).toContain(mentions);
  }
}

describe('the API and bad profiles', () => {
  it('an alias bomb: report.error from run(), an IsolateError from the others, naming the file and line', async () => {
    const file = profile('bomb.yaml', 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n');
    await expectEverywhere({ ...base(), profile: file }, 'E_PROFILE_PARSE', `${file}: YAML anchors, aliases and tags are not allowed in a profile (anchor &a at line 1`);
  });

  it('an unknown key, a missing extends target and an extends cycle', async () => {
    const unknown = profile('unknown.yaml', 'extends: default\nfilesystem:\n  wrte: [/tmp]\n');
    await expectEverywhere({ ...base(), profile: unknown }, 'E_PROFILE_INVALID', `${unknown}: filesystem.wrte: unknown key`);
    const missing = profile('missing.yaml', 'extends: ./nowhere.yaml\n');
    await expectEverywhere({ ...base(), profile: missing }, 'E_PROFILE_NOT_FOUND', `(extends in ${missing})`);
    const loop = profile('loop.yaml', 'extends: ./loop.yaml\n');
    await expectEverywhere({ ...base(), profile: loop }, 'E_PROFILE_CYCLE', loop);
  });

  it('a bug inside isolate (a TypeError while loading) is E_INTERNAL with the original as its cause, not a thrown TypeError', async () => {
    await expectEverywhere({ ...base(), profile: 'explode' }, 'E_INTERNAL', "internal error: Cannot read properties of undefined (reading 'x')");
    const e = await loadProfile({ ...base(), profile: 'explode' }).catch((err: unknown) => err);
    expect((e as IsolateError).cause).toBeInstanceOf(TypeError);
  });
});

describe('the API and options of the wrong shape (JavaScript callers)', () => {
  const cases: [string, unknown, ErrorCode, string][] = [
    ['options null', null, 'E_USAGE', 'options: expected an object, received null'],
    ['profile 42', { profile: 42 }, 'E_USAGE', 'options.profile: expected a string, received number'],
    ['allowRead a string', { allowRead: '/usr' }, 'E_USAGE', 'options.allowRead: expected an array of strings, received string'],
    ['env with a number', { env: ['A=1', 2] }, 'E_USAGE', 'options.env: expected an array of strings'],
    ['net wifi', { net: 'wifi' }, 'E_USAGE', 'options.net: expected one of none, host, filtered, received "wifi"'],
    ['a misspelt limit', { limits: { timout: '10s' } }, 'E_LIMIT_INVALID', 'options.limits: timout: unknown limit'],
    ['a limit of the wrong type', { limits: { timeout: { s: 10 } } }, 'E_LIMIT_INVALID', 'options.limits: timeout: expected a string or a number, received object'],
    ['a limit beyond the maximum', { limits: { timeout: '597h' } }, 'E_LIMIT_INVALID', 'expected at most 596h'],
    ['callerEnv with a number', { callerEnv: { PATH: 1 } }, 'E_USAGE', 'options.callerEnv: PATH: expected a string, received number'],
    ['cwd with a NUL', { cwd: 'a\u0000b' }, 'E_USAGE', 'options.cwd: a path may not contain a NUL byte'],
    ['backend unknown', { backend: 'docker' }, 'E_USAGE', 'options.backend: expected one of auto, bwrap, nsjail, sandbox-exec'],
    ['stdio unknown', { stdio: 'pipe' }, 'E_USAGE', "options.stdio: expected 'inherit' or 'capture'"],
    ['audit a string', { audit: 'off' }, 'E_USAGE', 'options.audit: expected { enabled?: boolean, log?: string }'],
  ];
  for (const [label, options, code, mentions] of cases) {
    it(`${label}: ${code}`, async () => {
      const merged = options === null ? null : { ...base(), ...(options as object) };
      await expectEverywhere(merged, code, mentions);
    });
  }

  it('a passed callerEnv value with a NUL is E_ENV_INVALID when the environment is built (plan, explain, check, run)', async () => {
    const o = { ...base(), callerEnv: { PATH: '/usr/bin', FOO: 'x\u0000--bind\u0000/\u0000/mnt' }, env: ['FOO'] };
    expect((await run(['true'], o)).error?.summary).toBe("the caller's FOO: a value may not contain a NUL byte");
    for (const call of [() => explain(['true'], o), () => check(['true'], o), () => plan(['true'], o)]) {
      const e: unknown = await call().then(() => undefined, (err: unknown) => err);
      expect((e as IsolateError).code).toBe('E_ENV_INVALID');
    }
  });

  it('a command word with a NUL byte is E_USAGE naming the word (plan, explain, check, run), not an internal error', async () => {
    const o = base();
    expect((await run(['echo', 'a\u0000b'], o)).error).toMatchObject({ code: 'E_USAGE', summary: 'command: word 1 contains a NUL byte, which no program can be given' });
    for (const call of [() => explain(['echo', 'a\u0000b'], o), () => check(['echo', 'a\u0000b'], o), () => plan(['echo', 'a\u0000b'], o)]) {
      const e: unknown = await call().then(() => undefined, (err: unknown) => err);
      expect((e as IsolateError).code).toBe('E_USAGE');
    }
  });

  it('control: the same options, well formed, load', async () => {
    await expect(loadProfile({ ...base(), allowRead: ['/usr'], env: ['A=1'], net: 'none', limits: { timeout: '10s' } })).resolves.toHaveProperty('policy');
  });
});
