/** Shared option handling for run, explain and profiles show. */
import { IsolateError } from '../errors.js';
import type { IsolateOptions } from '../index.js';
import type { BackendChoice } from '../backends/index.js';
import type { LimitsDoc, NetworkMode } from '../profile/types.js';
import { UNLIMITED, parseCount } from '../profile/limits.js';
import { optionList, optionString, type Parsed } from './args.js';

export function sandboxOptions(p: Parsed, env: Readonly<Record<string, string | undefined>>, profileArg?: string): IsolateOptions {
  const profile = profileArg ?? optionString(p, 'profile') ?? (env['ISOLATE_PROFILE'] || 'default');
  const o: IsolateOptions = { profile, callerEnv: env, callerCwd: process.cwd() };
  const backend = optionString(p, 'backend');
  if (backend !== undefined) o.backend = backend as BackendChoice;
  const read = optionList(p, 'allow-read');
  if (read) o.allowRead = read;
  const write = optionList(p, 'allow-write');
  if (write) o.allowWrite = write;
  const deny = optionList(p, 'deny');
  if (deny) o.deny = deny;
  const envs = optionList(p, 'env');
  if (envs) o.env = envs;
  const net = optionString(p, 'net');
  if (net !== undefined) o.net = net as NetworkMode;
  const allowDomain = optionList(p, 'allow-domain');
  if (allowDomain) o.allowDomain = allowDomain;
  const denyDomain = optionList(p, 'deny-domain');
  if (denyDomain) o.denyDomain = denyDomain;
  const limits: LimitsDoc = {};
  for (const [flag, key] of [
    ['timeout', 'timeout'],
    ['cpu', 'cpu'],
    ['memory', 'memory'],
    ['file-size', 'fileSize'],
    ['tmpfs-size', 'tmpfs'],
  ] as const) {
    const v = optionString(p, flag);
    if (v !== undefined) limits[key] = v;
  }
  for (const [flag, key] of [
    ['processes', 'processes'],
    ['open-files', 'openFiles'],
  ] as const) {
    const v = optionString(p, flag);
    if (v === undefined) continue;
    if (v === UNLIMITED && key === 'processes') {
      limits[key] = UNLIMITED;
      continue;
    }
    const n = parseCount(v);
    if (!n.ok) throw new IsolateError('E_LIMIT_INVALID', `--${flag}: ${n.message}`, { fix: `--${flag} takes a positive whole number` });
    limits[key] = n.value;
  }
  if (Object.keys(limits).length > 0) o.limits = limits;
  const cwd = optionString(p, 'cwd');
  if (cwd !== undefined) o.cwd = cwd;
  return o;
}

export function requireCommand(p: Parsed): string[] {
  if (p.positionals.length === 0 || p.positionals[0] === '') {
    throw new IsolateError('E_COMMAND_EMPTY', 'no command given', { fix: 'isolate run [options] -- <command> [args...]' });
  }
  return p.positionals;
}
