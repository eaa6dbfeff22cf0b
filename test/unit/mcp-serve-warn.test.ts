/**
 * What isolate mcp says on stderr of a message it cannot read: the parser's
 * message quotes the client's bytes, and stderr may be the terminal of
 * whoever started the server (the SDK's stdio client passes it through).
 * Control characters are shown escaped, never sent as they are.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { serveStdio } from '../../src/mcp/serve.js';
import type { ServerConfig } from '../../src/mcp/config.js';

describe('isolate mcp, an unreadable message', () => {
  it('is reported on stderr with its control characters escaped', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const warned: string[] = [];
    const config = { options: {}, policy: {}, maxConcurrent: 1, maxOutput: 1024, version: '0.0.0', warn: (t: string) => warned.push(t) } as unknown as ServerConfig;
    const served = serveStdio(config, stdin as unknown as typeof process.stdin, stdout as unknown as typeof process.stdout);
    stdin.write('X\x1b]0;title\x07\x9b2J\n');
    stdin.end();
    expect(await served).toBe(0);
    expect(warned.join('')).toContain('could not be read');
    for (const c of ['\x1b', '\x07', '\x9b']) expect(warned.join('').includes(c), `${JSON.stringify(c)} reached stderr`).toBe(false);
  });
});
