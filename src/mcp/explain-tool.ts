/** The `explain` tool: the sandbox every command of this server runs in, as text an assistant can show its user. */
import * as z from 'zod';
import { explain, protectedRows, type Explanation } from '../index.js';
import type { ServerConfig } from './config.js';

export const explainOutput = {
  profile: z.string(),
  backend: z.string(),
  cwd: z.string().describe("the server's working directory for commands"),
  readable: z.array(z.string()),
  writable: z.array(z.string()),
  hidden: z.array(z.string()),
  private: z.array(z.string()).describe('empty directories, discarded after each run'),
  protected: z.array(z.string()).describe('read-only inside writable paths'),
  protectedWhy: z.record(z.string(), z.string()).describe('why a protected path is there, where its name alone does not say (a directory on your PATH)'),
  network: z.object({ mode: z.string(), allow: z.array(z.string()), deny: z.array(z.string()) }),
  env: z.array(z.string()).describe('names of the variables commands receive'),
  limits: z.array(z.string()),
  commands: z.object({ allow: z.array(z.string()), deny: z.array(z.string()) }).describe('the command policy'),
  maxTimeoutSeconds: z.number().nullable().describe('the longest timeout a call may ask for; null: none'),
  maxConcurrent: z.number().int(),
  maxOutputBytes: z.number().int(),
};

export type ExplainOutput = z.infer<z.ZodObject<typeof explainOutput>>;

export async function explainCall(config: ServerConfig): Promise<ExplainOutput> {
  const e: Explanation = await explain(['/bin/sh', '-c', 'true'], config.options);
  const s = e.summary;
  const p = config.policy;
  return {
    profile: `${e.profile.name} (${e.profile.sources.join(' -> ')})`,
    backend: `${e.backend.name} ${e.backend.version}`,
    cwd: e.cwd,
    readable: s.readable,
    writable: s.writable,
    hidden: s.hidden,
    private: s.tmpfs,
    protected: [...s.protected, ...s.placeholders],
    protectedWhy: s.protectedWhy ?? {},
    network: { mode: s.network, allow: p.network.allow, deny: p.network.deny },
    env: s.env,
    limits: s.limits,
    commands: { allow: p.commands.allow, deny: p.commands.deny },
    maxTimeoutSeconds: p.limits.timeoutMs === undefined ? null : p.limits.timeoutMs / 1000,
    maxConcurrent: config.maxConcurrent,
    maxOutputBytes: config.maxOutput,
  };
}

const list = (items: readonly string[]): string => (items.length === 0 ? '(none)' : items.join(', '));

export function explainText(x: ExplainOutput): string {
  const net = x.network.mode === 'filtered' ? `filtered: only ${list(x.network.allow)}${x.network.deny.length > 0 ? `; never ${list(x.network.deny)}` : ''}` : x.network.mode;
  return [
    `Every command runs in a fresh sandbox (profile ${x.profile}, ${x.backend}), in ${x.cwd} unless a call names another directory.`,
    `readable: ${list(x.readable)}`,
    `writable: ${list(x.writable)}`,
    `hidden: ${list(x.hidden)}`,
    `private (empty, discarded after each run): ${list(x.private)}`,
    `read-only inside writable paths: ${list(protectedRows({ protected: x.protected, placeholders: [], protectedWhy: x.protectedWhy }))}`,
    `network: ${net}`,
    `environment: ${list(x.env)}`,
    `limits: ${list(x.limits)}`,
    `command policy: allow ${list(x.commands.allow)}; deny ${list(x.commands.deny)}`,
    `calls: at most ${x.maxConcurrent} at once; output kept: ${x.maxOutputBytes} bytes per stream; timeout at most ${x.maxTimeoutSeconds === null ? 'unlimited' : `${x.maxTimeoutSeconds}s`}`,
    '',
  ].join('\n');
}
