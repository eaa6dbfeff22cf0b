/**
 * `isolate mcp` as a test starts it: the built bin, as a runner, spoken to by
 * the SDK's own client over the process's stdin and stdout. The transport is
 * the test's, so that a test can close stdin itself and see how the server
 * ends (exit code, signal).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import { DEFAULT_PATH, giveTo, isolateArgv, projectSite, type Runner } from './isolate.js';

/** JSON-RPC over a child's stdin and stdout, one message a line, as StdioClientTransport does. */
class ChildTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly buffer = new ReadBuffer();

  constructor(private readonly child: ChildProcess) {}

  async start(): Promise<void> {
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (let m = this.buffer.readMessage(); m !== null; m = this.buffer.readMessage()) this.onmessage?.(m);
    });
    this.child.stdin?.on('error', (e) => this.onerror?.(e));
    this.child.on('close', () => this.onclose?.());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.child.stdin?.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.child.stdin?.end();
  }
}

export interface McpProcess {
  client: Client;
  child: ChildProcess;
  /** How the server process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** Close stdin (the client goes away) and wait for the server to end; SIGKILL after `ms`. */
  stop(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const CLIENT = { name: 'isolate-tests', version: '1.2.3' };

/** Start `isolate mcp <args>` as the runner in `cwd` with exactly `env` (plus PATH and the runner's state directory), and connect. */
export async function startMcp(runner: Runner, args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<McpProcess> {
  const [file, ...rest] = isolateArgv(runner, ['mcp', ...args]);
  const env = { PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir, ...options.env };
  const child = spawn(file as string, rest, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const client = new Client(CLIENT);
  const stop = async (ms = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await client.connect(new ChildTransport(child));
  } catch (e: unknown) {
    await stop(1000);
    throw new Error(`isolate mcp did not start: ${String(e)}\n${stderr}`);
  }
  return { client, child, exited, stderr: () => stderr, stop };
}

/** A server in a project of its own, recording to its own log, whose answers are read as raw text: a hostile client writes its JSON-RPC lines itself. */
export interface RawMcpSite {
  server: McpProcess;
  log: string;
  project: string;
  /** Everything the server has written on its stdout so far. */
  answers(): string;
  /** Remove the project (after the server has stopped). */
  cleanup(): void;
}

export async function rawMcpSite(runner: Runner, prefix: string): Promise<RawMcpSite> {
  const site = projectSite(runner, prefix);
  giveTo(runner, site.dir);
  const log = join(site.dir, 'audit.jsonl');
  const server = await startMcp(runner, ['--audit-log', log], { cwd: site.project, env: site.env });
  let answers = '';
  server.child.stdout?.on('data', (d: Buffer) => (answers += d.toString()));
  return { server, log, project: site.project, answers: () => answers, cleanup: site.cleanup };
}
