/** What `isolate mcp` fixes when it starts: every call runs with these options, and no call parameter can change them. */
import type { Policy, RunOptions } from '../index.js';

export const DEFAULT_MAX_CONCURRENT = 4;
export const DEFAULT_MAX_OUTPUT = 64 * 1024;

export interface ServerConfig {
  /** The API options of every call: the profile as loaded at the start (`loaded`), the caller's environment and directory, the backend, the audit log. */
  options: RunOptions;
  /** The policy as resolved at the start: what explain shows, the longest timeout a call may ask for. */
  policy: Policy;
  maxConcurrent: number;
  /** Bytes kept of stdout and of stderr per call. */
  maxOutput: number;
  /** isolate's version, which the server gives in the initialize handshake. */
  version: string;
  /** Where the server says what went wrong on its transport (a message it cannot read), for the person who started it; never the protocol's stdout. */
  warn?: (text: string) => void;
}
