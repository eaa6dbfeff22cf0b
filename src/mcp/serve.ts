/**
 * `isolate mcp` over stdio, from the first message to the end. The server
 * ends when the client goes away (stdin ends or fails) or on SIGTERM,
 * SIGINT or SIGHUP: every running call is aborted, which kills its sandbox,
 * and the end waits until each has cleaned up, so nothing is left behind.
 * Nothing but the protocol goes to stdout.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { oneLine } from '../errors.js';
import type { ServerConfig } from './config.js';
import { createServer } from './server.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Serve until the client goes away (exit 0) or a signal ends the server (128+N). */
export async function serveStdio(config: ServerConfig, stdin = process.stdin, stdout = process.stdout): Promise<number> {
  const { server, calls, watch } = createServer(config);
  const transport = watch(new StdioServerTransport(stdin, stdout));
  let code = 0;
  let finish: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    code = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
    finish();
  };
  // A client that stops reading must not crash the server: its calls still end and clean up.
  stdout.on('error', finish);
  stdin.on('end', finish);
  stdin.on('close', finish);
  stdin.on('error', finish);
  for (const s of SIGNALS) process.on(s, onSignal);
  transport.onclose = finish;
  // A message it cannot read (malformed, or over the SDK's 10 MiB, which ends the transport): said on stderr, never on stdout,
  // escaped: the parser's message quotes the client's bytes, and stderr may be the terminal of whoever started the server.
  transport.onerror = (e: Error) => config.warn?.(`isolate mcp: a message from the client could not be read: ${oneLine(e.message)}`);
  try {
    await server.connect(transport);
    await ended;
    await calls.endAll();
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
    await server.close().catch(() => undefined);
  }
  return code;
}
