/**
 * A profile file that the command of a run could have written (inside this
 * run's writable paths, or the project an earlier run worked in:
 * earlier-runs.ts) is as trustworthy as the project's code. A CI job's
 * install step runs under `default`, and its code rewrites the
 * repository's profile that the next step uses. Such a profile may narrow
 * the sandbox and describe the project's own needs, but not hand the next
 * run what the project's code must never get: a secret of the caller's
 * passed by name (a secret-looking name, or a value that holds a password
 * or a token), the host's network, or a rule that opens a CI job's secret
 * directories (the files behind GITHUB_ENV, which later steps obey outside
 * any sandbox). The same profile outside those paths, or the same choice
 * as a flag, is the user's to make.
 */
import { isAbsolute } from 'node:path';
import { IsolateError } from '../errors.js';
import { isSecretVariable } from './environment.js';
import { isWithin } from './mount-rules.js';
import type { MergedProfile, MountRule } from './types.js';

/** The profile file a value came from (`/p/ci.yaml: network.mode`, `/p/ci.yaml: credentials[0]`), or undefined for a flag or a built-in profile. */
export function originFile(origin: string | undefined): string | undefined {
  const at = origin?.lastIndexOf(': ') ?? -1;
  const file = at === -1 ? undefined : origin?.slice(0, at);
  return file !== undefined && isAbsolute(file) ? file : undefined;
}

/** The refusal of `what` (`environment.pass: GITHUB_TOKEN`) that a profile file the sandbox could have written set. */
export function plantedError(file: string, what: string, fix: string): IsolateError {
  return new IsolateError('E_PROFILE_INVALID', `${file}: ${what}, and ${file} is inside a path the sandbox can write: the command of an earlier run could have written it`, { fix });
}

const KEEP_OUTSIDE = 'keep a profile that does so outside the paths the sandbox can write (e.g. in ~/.config/isolate/profiles/)';

interface Planted {
  profile: Pick<MergedProfile, 'passOrigins' | 'origins' | 'network' | 'environment'>;
  /** The profile's filesystem rules, each with the key that set it. */
  rules: readonly { rule: MountRule; from: string }[];
  /** A CI job's secret directories (ci-dirs.ts). */
  secretDirs: readonly string[];
  callerEnv: Readonly<Record<string, string | undefined>>;
  /** Whether the command of a run could have written a path (earlier-runs.ts writtenByRuns). */
  written: (path: string) => boolean;
}

/** Refuse what a profile file the sandbox could have written may not choose. */
export function checkPlantedProfile(p: Planted): void {
  const planted = (origin: string | undefined): string | undefined => {
    const file = originFile(origin);
    return file !== undefined && p.written(file) ? file : undefined;
  };
  for (const [name, origin] of Object.entries(p.profile.passOrigins ?? {})) {
    const file = planted(origin);
    if (file !== undefined && isSecretVariable(name, p.callerEnv[name], p.profile.environment.secrets)) throw plantedError(file, `environment.pass: ${name} passes a secret-looking variable by name`, `${KEEP_OUTSIDE}, or pass it on the command line (--env ${name})`);
  }
  const modeFile = planted(p.profile.origins['network.mode']);
  if (modeFile !== undefined && p.profile.network.mode === 'host') throw plantedError(modeFile, 'network.mode: host gives the command the host\'s network', `${KEEP_OUTSIDE}, or choose it on the command line (--net host)`);
  for (const { rule, from } of p.rules) {
    const file = planted(from);
    const dir = p.secretDirs.find((d) => isWithin(rule.path, d));
    if (file !== undefined && dir !== undefined) throw plantedError(file, `${from.slice(file.length + 2)}: ${rule.path} opens a CI job's secret directory ${dir}`, `${KEEP_OUTSIDE}, or remove the rule`);
  }
}
