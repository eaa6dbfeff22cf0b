/**
 * The API's options, checked before they reach the loader. TypeScript
 * callers get this from the types; JavaScript callers (and JSON handed
 * through, as a coding assistant does) get an IsolateError naming the
 * option instead of a TypeError from deep inside, and a misspelt limit is
 * an error rather than no limit.
 */
import { IsolateError } from '../errors.js';

type Check = (v: unknown) => string | undefined;

const isStringList = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

const string: Check = (v) => (typeof v === 'string' ? undefined : `expected a string, received ${describe(v)}`);
const path: Check = (v) => string(v) ?? ((v as string).includes('\0') ? 'a path may not contain a NUL byte' : undefined);
const stringList: Check = (v) => (isStringList(v) ? undefined : `expected an array of strings, received ${describe(v)}`);
const oneOf = (...choices: string[]): Check => (v) =>
  typeof v === 'string' && choices.includes(v) ? undefined : `expected one of ${choices.join(', ')}, received ${typeof v === 'string' ? JSON.stringify(v) : describe(v)}`;
const stringOrNumber: Check = (v) => (typeof v === 'string' || typeof v === 'number' ? undefined : `expected a string or a number, received ${describe(v)}`);

const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const environment: Check = (v) => {
  if (!plainObject(v)) return `expected an object of variables, received ${describe(v)}`;
  const bad = Object.entries(v).find(([, value]) => value !== undefined && typeof value !== 'string');
  return bad === undefined ? undefined : `${bad[0]}: expected a string, received ${describe(bad[1])}`;
};

/** Checks each key of an object against a table; unknown keys are errors. */
const keysOf = (checks: Record<string, Check>, example: string, noun: string): Check => (v) => {
  if (!plainObject(v)) return `expected an object such as ${example}, received ${describe(v)}`;
  for (const [key, value] of Object.entries(v)) {
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined;
    if (check === undefined) return `${key}: unknown ${noun} (known: ${Object.keys(checks).join(', ')})`;
    const wrong = value === undefined ? undefined : check(value);
    if (wrong !== undefined) return `${key}: ${wrong}`;
  }
  return undefined;
};

const ceilings = keysOf({ tmpfs: stringOrNumber, processes: stringOrNumber, memory: stringOrNumber }, "{ memory: 'unlimited' }", 'ceiling');

const LIMIT_CHECKS: Record<string, Check> = {
  timeout: stringOrNumber,
  killAfter: stringOrNumber,
  cpu: stringOrNumber,
  memory: stringOrNumber,
  processes: stringOrNumber,
  openFiles: stringOrNumber,
  fileSize: stringOrNumber,
  tmpfs: stringOrNumber,
  enforce: oneOf('rlimit', 'cgroup'),
  ceilings,
};

const limits = keysOf(LIMIT_CHECKS, "{ timeout: '30s' }", 'limit');

const OPTION_CHECKS: Record<string, Check> = {
  profile: string,
  allowRead: stringList,
  allowWrite: stringList,
  deny: stringList,
  env: stringList,
  net: oneOf('none', 'host', 'filtered'),
  allowDomain: stringList,
  denyDomain: stringList,
  credential: stringList,
  cwd: path,
  workdir: path,
  timeoutAtMostMs: (v) => (typeof v === 'number' ? undefined : `expected a number of milliseconds, received ${describe(v)}`),
  limits,
  callerEnv: environment,
  callerCwd: path,
};

/**
 * Throws E_USAGE (E_LIMIT_INVALID for limits) naming the first option of the
 * wrong shape. Options outside the profile (backend, run's audit and stdio)
 * are checked where they are used.
 */
export function checkOptions(options: unknown): void {
  if (options === undefined) return;
  if (!plainObject(options)) throw new IsolateError('E_USAGE', `options: expected an object, received ${describe(options)}`);
  for (const [name, check] of Object.entries(OPTION_CHECKS)) {
    const value = options[name];
    const wrong = value === undefined ? undefined : check(value);
    if (wrong !== undefined) {
      throw new IsolateError(name === 'limits' ? 'E_LIMIT_INVALID' : 'E_USAGE', `options.${name}: ${wrong}`, {
        fix: 'see docs/node-api.md for the options and their types',
      });
    }
  }
}
