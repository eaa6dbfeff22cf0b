/**
 * Where a run came from, when a program around isolate asked for it (the MCP
 * server, `isolate mcp`), and the record of a call that runs nothing (the MCP
 * server's `check` and `explain`): every call to the server is one record in
 * the same hash-chained log as the CLI's runs.
 */
import type { RunReport } from './report.js';
import { REPORT_SCHEMA_VERSION } from './report.js';

export const CALL_KIND = 'mcp-call';

/** The MCP server's tools. */
export type McpTool = 'run' | 'check' | 'explain';

/** Who asked for a run: the MCP server's tool, and the client as it named itself when it connected. */
export interface RunOrigin {
  via: 'mcp';
  tool: McpTool;
  /** The client's name and version from the initialize handshake; null when it gave none. */
  client: { name: string; version: string } | null;
}

/** A call of the MCP server that started no sandbox (check, explain). */
export interface CallRecord {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: typeof CALL_KIND;
  callId: string;
  time: string;
  origin: RunOrigin;
  /** The command asked about (check), secret-looking values redacted; null for explain. */
  command: string[] | null;
  user: RunReport['user'];
  profile: RunReport['profile'];
  /** The command policy's decision (check); null for explain. */
  policy: RunReport['policy'];
  /** isolate's own failure, if the call failed. */
  error: RunReport['error'];
}
