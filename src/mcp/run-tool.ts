/**
 * The `run` tool: one command in the server's sandbox, checked by the
 * command policy and recorded in the audit log like a CLI run, with the
 * client named. `command` is a shell string (run as /bin/sh -c, and checked
 * as such), `argv` a program and its arguments. `cwd`, `timeout` and `stdin`
 * only narrow what the server allows: nothing a call passes adds a path, a
 * domain, a variable or a credential. The output it returns has the escape
 * sequences that act outside a terminal's screen dropped (a clipboard write,
 * a report request), as on the way to the user's terminal: an assistant may
 * show it there.
 */
import * as z from 'zod';
import { IsolateError } from '../errors.js';
import { filteredText, runWithError, type RunOptions, type RunOrigin, type RunReport } from '../index.js';
import type { ServerConfig } from './config.js';
import { marked } from './output.js';

export const runInput = {
  command: z.string().min(1).optional().describe('a shell command line, run with /bin/sh -c inside the sandbox (give command or argv)'),
  argv: z.array(z.string()).min(1).optional().describe('a program and its arguments, run without a shell (instead of command)'),
  cwd: z.string().min(1).optional().describe("working directory; it must lie inside a readable or writable path of the sandbox (default: the server's)"),
  timeout: z.number().positive().optional().describe("seconds before the command is stopped (exit 124); at most the server's timeout"),
  stdin: z.string().optional().describe('text the command reads on its stdin (default: nothing)'),
};

const stream = z.string();
export const runOutput = {
  exitCode: z.number().int().describe("the command's exit code; 128+N killed by signal N; 124 timeout; 125 isolate failed; 126 refused; 127 not found"),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  stdout: stream.describe('capped; a last line says when and how much was cut'),
  stderr: stream,
  stdoutBytes: z.number().int().describe('every byte the command wrote to stdout'),
  stderrBytes: z.number().int(),
  truncated: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
  durationMs: z.number(),
  network: z.object({
    mode: z.string(),
    allowed: z.number().int().describe('connection attempts the filter let through'),
    denied: z.number().int().describe('connection attempts the filter refused'),
    attempts: z.array(z.object({ host: z.string(), port: z.number().int(), decision: z.enum(['allowed', 'denied']), rule: z.string().nullable() })),
  }),
  denials: z.array(z.string()).describe('what the sandbox refused, where the backend reports it (sandbox-exec)'),
  runId: z.string().describe("the run's id in the audit log"),
  recorded: z.boolean().describe('whether the run is in the audit log'),
};

export type RunInput = { [K in keyof typeof runInput]?: z.infer<(typeof runInput)[K]> };

/** The command as isolate runs and checks it: a shell string through /bin/sh -c. */
export function commandOf(input: { command?: string | undefined; argv?: string[] | undefined }): string[] {
  if ((input.command === undefined) === (input.argv === undefined)) {
    throw new IsolateError('E_USAGE', 'give either command (a shell string) or argv (a list), not both and not neither');
  }
  return input.command === undefined ? (input.argv ?? []) : ['/bin/sh', '-c', input.command];
}

/** The command of a call for its record, or null when the call named none (or both). */
export function commandOrNull(input: { command?: string | undefined; argv?: string[] | undefined }): string[] | null {
  try {
    return commandOf(input);
  } catch {
    return null;
  }
}

export function callOptions(config: ServerConfig, input: RunInput, signal: AbortSignal, origin: RunOrigin): RunOptions {
  return {
    ...config.options,
    stdio: 'capture',
    maxCapture: config.maxOutput,
    signal,
    origin,
    ...(input.cwd === undefined ? {} : { workdir: input.cwd }),
    ...(input.timeout === undefined ? {} : { timeoutAtMostMs: Math.round(input.timeout * 1000) }),
    ...(input.stdin === undefined ? {} : { stdin: input.stdin }),
  };
}

export function structured(report: RunReport, limit: number): z.infer<z.ZodObject<typeof runOutput>> {
  const events = report.network?.events ?? [];
  const omitted = report.network?.omitted ?? { allowed: 0, denied: 0 };
  const bytes = report.outputBytes ?? { stdout: 0, stderr: 0 };
  const truncated = report.truncated ?? { stdout: false, stderr: false };
  return {
    exitCode: report.exitCode,
    signal: report.signal,
    timedOut: report.timedOut,
    stdout: marked('stdout', { text: filteredText(report.stdout ?? ''), bytes: bytes.stdout, truncated: truncated.stdout }, limit),
    stderr: marked('stderr', { text: filteredText(report.stderr ?? ''), bytes: bytes.stderr, truncated: truncated.stderr }, limit),
    stdoutBytes: bytes.stdout,
    stderrBytes: bytes.stderr,
    truncated,
    durationMs: report.durationMs,
    network: {
      mode: report.network?.mode ?? 'none',
      allowed: events.filter((e) => e.decision === 'allowed').length + omitted.allowed,
      denied: events.filter((e) => e.decision === 'denied').length + omitted.denied,
      attempts: events.map((e) => ({ host: e.host, port: e.port, decision: e.decision, rule: e.rule })),
    },
    denials: (report.denials?.entries ?? []).map((d) => `${d.operation}${d.target === null ? '' : ` ${d.target}`}`),
    runId: report.runId,
    recorded: report.audit?.recorded ?? false,
  };
}

/** What the assistant reads: the outcome in one line, then the output. */
export function summaryText(out: z.infer<z.ZodObject<typeof runOutput>>): string {
  const how = out.timedOut ? ' (timed out)' : out.signal === null ? '' : ` (${out.signal})`;
  const net = out.network.denied > 0 ? `; ${out.network.denied} connection${out.network.denied === 1 ? '' : 's'} denied` : '';
  let text = `exit ${out.exitCode}${how} after ${Math.round(out.durationMs)} ms${net}; run ${out.runId}\n`;
  if (out.stdout !== '') text += `--- stdout ---\n${out.stdout}${out.stdout.endsWith('\n') ? '' : '\n'}`;
  if (out.stderr !== '') text += `--- stderr ---\n${out.stderr}${out.stderr.endsWith('\n') ? '' : '\n'}`;
  return text;
}

/** Why isolate did not run the command, as the tool error says it: the rule for a refusal, the fix for a failure. */
export function refusalText(report: RunReport): string {
  const e = report.error;
  const p = report.policy;
  const head = p?.decision === 'refused' ? `refused by the command policy: ${p.reason}` : (e?.summary ?? 'isolate failed');
  const fix = e?.fix === undefined ? '' : `\nfix: ${e.fix}`;
  return `${head}${fix}\nexit ${report.exitCode}; run ${report.runId}${report.audit?.recorded === true ? ' (recorded in the audit log)' : ''}\n`;
}

/** Run one call; the report, and whether it is a tool error (isolate refused or could not run it). */
export async function runCall(config: ServerConfig, input: RunInput, signal: AbortSignal, origin: RunOrigin): Promise<{ report: RunReport; failed: boolean }> {
  const command = commandOf(input);
  const { report } = await runWithError(command, callOptions(config, input, signal, origin));
  const failed = report.error !== null && report.cancelled !== true && !report.timedOut;
  return { report, failed };
}
