/**
 * isolate mcp: the MCP server over stdio. The profile, the options and the
 * audit log are fixed here, before the first message: a profile that cannot
 * be loaded, or a sandbox this host cannot enforce, ends the server at once
 * (exit 125) rather than failing each call. The SDK is loaded only here.
 */
import { loadProfile, plan, sweepKilledLeftovers, type RunOptions } from '../index.js';
import { IsolateError } from '../errors.js';
import { parseCount, parseSize } from '../profile/limits.js';
import { DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_OUTPUT } from '../mcp/config.js';
import { sandboxOptions } from './common.js';
import type { CliContext } from './context.js';
import type { Invocation } from './program.js';
import { version } from './version.js';

interface McpFlags {
  auditLog?: string;
  /** false with --no-audit */
  audit: boolean;
  maxConcurrent?: string;
  maxOutput?: string;
}

function limit(flag: string, value: string | undefined, parse: typeof parseCount, fallback: number): number {
  if (value === undefined) return fallback;
  const n = parse(value);
  if (!n.ok) throw new IsolateError('E_USAGE', `--${flag}: ${n.message}`);
  return n.value;
}

export async function mcpCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const flags = inv.options as unknown as McpFlags;
  const maxConcurrent = limit('max-concurrent', flags.maxConcurrent, parseCount, DEFAULT_MAX_CONCURRENT);
  const maxOutput = limit('max-output', flags.maxOutput, parseSize, DEFAULT_MAX_OUTPUT);
  const chosen: RunOptions = { ...sandboxOptions(inv, ctx.env), audit: { ...(flags.audit ? {} : { enabled: false }), ...(flags.auditLog === undefined ? {} : { log: flags.auditLog }) } };
  const prepared = await loadProfile(chosen);
  // Every call's records go to one log: the one named, else the profile's, else the default.
  const log = flags.auditLog ?? prepared.policy.audit.log;
  const options: RunOptions = { ...chosen, loaded: prepared.merged, audit: { ...chosen.audit, ...(log === undefined ? {} : { log }) } };
  await plan(['/bin/sh', '-c', 'true'], options); // the backend is there and can enforce the profile
  // What an earlier server (or run) killed mid-call left in isolate's runtime directory goes now, not at the next run that sweeps it.
  await sweepKilledLeftovers(options);
  const { serveStdio } = await import('../mcp/serve.js');
  const warn = (text: string): void => ctx.output.err(`${text}\n`);
  return serveStdio({ options, policy: prepared.policy, maxConcurrent, maxOutput, version: version(), warn });
}
