/**
 * The MCP server: the tools run, check and explain over one fixed
 * configuration (config.ts). Each call is tracked (calls.ts) so that a
 * client's cancellation kills its sandbox and the server's end kills all;
 * runs take a slot of the concurrency limit (slots.ts); a call that runs
 * longer than a second reports progress when the client asks (progress.ts).
 * Every call is one record in the audit log, marked with the tool and the
 * client from the initialize handshake; a call that could not be recorded
 * (a full disk) is said on the server's stderr, not only to the assistant.
 */
import * as z from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { asIsolateError, IsolateError, oneLine } from '../errors.js';
import { recordCall as appendCall, type CallOutcome, type McpTool, type RunOrigin } from '../index.js';
import { Calls } from './calls.js';
import { checkCall, checkInput, checkOutput, checkStructured, checkText, type CheckInput } from './check-tool.js';
import type { ServerConfig } from './config.js';
import { explainCall, explainOutput, explainText } from './explain-tool.js';
import { reportProgress } from './progress.js';
import { commandOrNull, refusalText, runCall, runInput, runOutput, structured, summaryText, type RunInput } from './run-tool.js';
import { Slots } from './slots.js';
import { WatchedTransport, type UnhandledCall } from './unhandled-calls.js';

/** What the SDK hands a tool's handler besides its arguments (the parts used here). */
interface Extra {
  requestId: RequestId;
  signal: AbortSignal;
  _meta?: { progressToken?: string | number | undefined } | undefined;
  sendNotification: Parameters<typeof reportProgress>[0]['sendNotification'];
}

export interface IsolateMcp {
  server: McpServer;
  calls: Calls;
  /** The transport to connect the server to: `inner`, with the calls no handler took recorded too (unhandled-calls.ts). */
  watch(inner: Transport): Transport;
}

const TOOLS: readonly string[] = ['run', 'check', 'explain'] satisfies McpTool[];
const isTool = (name: string): name is McpTool => TOOLS.includes(name);

/** The command a call named, when its arguments are well-formed enough to tell; null otherwise. */
function commandOfArgs(args: unknown): string[] | null {
  const parsed = z.object({ command: z.string().optional(), argv: z.array(z.string()).optional() }).safeParse(args);
  return parsed.success ? commandOrNull(parsed.data) : null;
}

/** What every tool's handler shares. */
interface Context {
  config: ServerConfig;
  calls: Calls;
  slots: Slots;
  /** The origin of a call of `tool`, with the client as it named itself. */
  origin(tool: McpTool): RunOrigin;
  /** Tell whoever started the server what went wrong recording a call of `tool` (each of its audit warnings). */
  tell(tool: McpTool, warnings: readonly string[] | undefined): void;
  /** Record a call that started no sandbox, and tell what went wrong recording it. */
  record(call: CallOutcome): Promise<void>;
  /** A call that failed before isolate recorded it otherwise: recorded here, then a tool error. */
  failed(tool: McpTool, command: readonly string[] | null, e: unknown): Promise<CallToolResult>;
  /** A handler took the call with this request id (it records the call itself). */
  take(id: RequestId): void;
}

const text = (t: string): CallToolResult['content'] => [{ type: 'text', text: t }];

function failure(message: string): CallToolResult {
  return { content: text(message), isError: true };
}

function registerRun(server: McpServer, ctx: Context): void {
  const description =
    "Run a shell command (or an argv) inside isolate's sandbox: only the paths, network and environment the server's profile allows. Checked by the command policy and recorded in the audit log. Returns the exit code, capped stdout and stderr, duration, network attempts and the audit run id.";
  const config = { title: 'Run a command in the sandbox', description, inputSchema: z.strictObject(runInput), outputSchema: runOutput };
  server.registerTool('run', config, async (input: RunInput, extra: Extra): Promise<CallToolResult> => {
    ctx.take(extra.requestId);
    return ctx.calls.track(extra.signal, async (signal) => {
      const stop = reportProgress({ progressToken: extra._meta?.progressToken, sendNotification: extra.sendNotification });
      let free: (() => void) | undefined;
      try {
        free = await ctx.slots.take(signal, input.stdin?.length ?? 0);
        const { report, failed: refused } = await runCall(ctx.config, input, signal, ctx.origin('run'));
        ctx.tell('run', report.audit?.warnings);
        if (refused) return failure(refusalText(report));
        const out = structured(report, ctx.config.maxOutput);
        return { content: text(summaryText(out)), structuredContent: out };
      } catch (e: unknown) {
        return ctx.failed('run', commandOrNull(input), e);
      } finally {
        free?.();
        stop();
      }
    });
  });
}

function registerCheck(server: McpServer, ctx: Context): void {
  const description = 'Say whether the command policy of this server lets a command run, and the rule that decides. Runs nothing.';
  const config = { title: 'Would the command policy allow this command?', description, inputSchema: z.strictObject(checkInput), outputSchema: checkOutput };
  server.registerTool('check', config, async (input: CheckInput, extra: Extra): Promise<CallToolResult> => {
    ctx.take(extra.requestId);
    try {
      const { command, result } = await checkCall(ctx.config, input);
      await ctx.record({ origin: ctx.origin('check'), command, check: result });
      return { content: text(checkText(result)), structuredContent: checkStructured(result) };
    } catch (e: unknown) {
      return ctx.failed('check', commandOrNull(input), e);
    }
  });
}

function registerExplain(server: McpServer, ctx: Context): void {
  const description = 'The sandbox every command of this server runs in: readable, writable and hidden paths, network, environment, limits and the command policy.';
  server.registerTool('explain', { title: 'Describe the sandbox', description, outputSchema: explainOutput }, async (extra: Extra): Promise<CallToolResult> => {
    ctx.take(extra.requestId);
    try {
      const out = await explainCall(ctx.config);
      await ctx.record({ origin: ctx.origin('explain'), command: null });
      return { content: text(explainText(out)), structuredContent: out };
    } catch (e: unknown) {
      return ctx.failed('explain', null, e);
    }
  });
}

export function createServer(config: ServerConfig): IsolateMcp {
  const server = new McpServer({ name: 'isolate', version: config.version }, { capabilities: { tools: {} } });
  const calls = new Calls();
  const origin = (tool: McpTool): RunOrigin => {
    const c = server.server.getClientVersion();
    return { via: 'mcp', tool, client: c === undefined ? null : { name: c.name, version: c.version } };
  };
  const tell = (tool: McpTool, warnings: readonly string[] | undefined): void => {
    for (const w of warnings ?? []) config.warn?.(`isolate mcp: ${tool}: ${oneLine(w)}`);
  };
  const record = async (call: CallOutcome): Promise<void> => tell(call.origin.tool, (await appendCall(call, config.options)).warnings);
  const failed = async (tool: McpTool, command: readonly string[] | null, e: unknown): Promise<CallToolResult> => {
    const error = asIsolateError(e);
    await record({ origin: origin(tool), command, error });
    return failure(`${error.message}${error.fix === undefined ? '' : `\nfix: ${error.fix}`}\n`);
  };
  let watched: WatchedTransport<McpTool> | undefined;
  const take = (id: RequestId): void => watched?.take(id);
  const ctx: Context = { config, calls, slots: new Slots(config.maxConcurrent), origin, tell, record, failed, take };
  registerRun(server, ctx);
  registerCheck(server, ctx);
  registerExplain(server, ctx);
  const unhandled = async (call: UnhandledCall<McpTool>): Promise<void> => {
    await failed(call.tool, commandOfArgs(call.args), new IsolateError('E_USAGE', call.message));
  };
  const watch = (inner: Transport): Transport => (watched = new WatchedTransport(inner, isTool, unhandled));
  return { server, calls, watch };
}
