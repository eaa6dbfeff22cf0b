/**
 * A syscall policy resolved, described and compiled once per distinct
 * policy (and architecture) in a process. Each is a pure function of the
 * policy's `syscalls` and the architecture, reading nothing of the host, so
 * a long-lived process (isolate mcp, the API's run()) need not rebuild the
 * same filter for every run. An unknown name still throws on every call
 * (errors are not kept). Callers get their own copies of the lines and the
 * program: nothing they do changes what is kept.
 */
import { buildFilter } from './bpf.js';
import { describeRules, resolveSeccomp, type ResolvedSeccomp, type SeccompConfig } from './presets.js';
import type { SeccompArch } from './syscalls.js';

interface Kept {
  resolved: ResolvedSeccomp;
  lines: readonly string[];
  programs: Map<SeccompArch, Buffer>;
}

/** Distinct syscall policies kept; a process sees one or a few. */
const KEPT = 16;
const kept = new Map<string, Kept>();

/** The text that tells two configurations apart: the same text, the same rules. */
function keyOf(config: SeccompConfig): string {
  return JSON.stringify([config.preset, config.deny ?? [], config.allow ?? []]);
}

function entry(config: SeccompConfig): Kept {
  const key = keyOf(config);
  const known = kept.get(key);
  if (known !== undefined) return known;
  const resolved = resolveSeccomp(config);
  const made: Kept = { resolved, lines: describeRules(resolved.rules, resolved.refuseNewer), programs: new Map() };
  if (kept.size >= KEPT) kept.delete(kept.keys().next().value ?? '');
  kept.set(key, made);
  return made;
}

/** resolveSeccomp(config) with its describeRules lines. */
export function resolvedSeccomp(config: SeccompConfig): { resolved: ResolvedSeccomp; lines: string[] } {
  const e = entry(config);
  return { resolved: e.resolved, lines: [...e.lines] };
}

/** buildFilter of the configuration's rules for `arch`. */
export function compiledFilter(config: SeccompConfig, arch: SeccompArch): Buffer {
  const e = entry(config);
  let program = e.programs.get(arch);
  if (program === undefined) {
    program = buildFilter(arch, e.resolved.rules, { refuseNewer: e.resolved.refuseNewer });
    e.programs.set(arch, program);
  }
  return Buffer.from(program);
}
