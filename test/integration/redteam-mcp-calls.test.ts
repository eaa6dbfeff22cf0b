/**
 * Red team: calls a manipulated model can send an MCP server.
 *
 * - One long word of letters (`echo xxx…`, 300 KB) froze the whole server:
 *   the redaction of passwords in URLs, run on every call's command before it
 *   is recorded, backtracked over the word once per letter. No other call
 *   was answered, cancellation did nothing, and the server went on burning
 *   CPU after its client had gone.
 * - A call whose arguments the SDK refuses before isolate sees them (a
 *   `constructor` key beside an attempt to widen the sandbox, arguments that
 *   are a string) was answered with a JSON-RPC error and never recorded.
 * - A `run` with a NUL byte in its `cwd` switched recording off for that
 *   call: refused, but not in the audit log.
 * - A `run` with one argument past Linux's 128 KiB, or arguments past the
 *   kernel's limit for all of them, was an internal error ("spawn E2BIG",
 *   "please report it"): the caller's to fix, and told how.
 * Every call is one record, refused ones included (docs/mcp.md).
 *
 * Written as failing findings first; they now guard the fixes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawMcpSite, type McpProcess } from '../helpers/mcp.js';
import { auditRecords, pollFor, runners } from '../helpers/isolate.js';

describe.each(runners().map((runner) => ({ label: runner.label, runner })))('red team: MCP calls that escaped the record or stalled the server ($label)', ({ runner }) => {
  const cleanups: (() => void)[] = [];
  const servers: McpProcess[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const c of cleanups.splice(0)) c();
  });

  /** A server recording to its own log, a way to send it a tool call as a raw JSON-RPC line, and whether a call was answered. */
  async function serve(): Promise<{ log: string; send: (id: number, params: unknown) => void; answered: (id: number) => boolean; answer: (id: number) => string; project: string }> {
    const site = await rawMcpSite(runner, 'isolate-it-rt-mcp-calls-');
    cleanups.push(site.cleanup);
    servers.push(site.server);
    const send = (id: number, params: unknown): void => {
      site.server.child.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params })}\n`);
    };
    const answered = (id: number): boolean => site.answers().includes(`"id":${id},`) || site.answers().includes(`"id":${id}}`);
    const answer = (id: number): string => site.answers().split('\n').find((l) => l.includes(`"id":${id},`) || l.includes(`"id":${id}}`)) ?? '';
    return { log: site.log, send, answered, answer, project: site.project };
  }

  /** The records of calls: a run's (kind run, from mcp), and the other tools' (kind mcp-call). */
  const calls = (log: string): Record<string, unknown>[] => auditRecords(log).filter((x) => x['kind'] === 'mcp-call' || (x['kind'] === 'run' && x['error'] !== undefined));
  const runs = (log: string): Record<string, unknown>[] => auditRecords(log).filter((x) => x['kind'] === 'run');

  it('a call with long words is answered, and the server answers the next call too', async () => {
    const { log, send, answered } = await serve();
    // Eight words of 100 KB (each under the kernel's 128 KiB for one argument): minutes each, before.
    send(1, { name: 'run', arguments: { argv: ['sh', '-c', 'echo "$#"', 'sh', ...Array.from({ length: 8 }, () => 'x'.repeat(100_000))] } });
    send(2, { name: 'check', arguments: { argv: ['echo', 'hi'] } });
    await pollFor('the answers to both calls', () => (answered(1) && answered(2) ? true : undefined), 60_000);
    await pollFor('the run\'s record and the check\'s', () => (runs(log).length > 0 && auditRecords(log).some((x) => x['kind'] === 'mcp-call') ? true : undefined));
  });

  it.each([
    ['a constructor key beside a wider sandbox', { command: 'echo widened', allowWrite: ['/'], constructor: {} }],
    ['arguments that are a string', 'rm -rf /'],
    ['arguments that are an array', ['rm', '-rf', '/']],
  ])('a call the SDK refuses for its arguments (%s) is recorded, as a usage error', async (_what, args) => {
    const { log, send, answered } = await serve();
    send(3, { name: 'run', arguments: args });
    await pollFor('the answer', () => (answered(3) ? true : undefined));
    const records = await pollFor('its record', () => (calls(log).length > 0 ? calls(log) : undefined));
    expect(records[0]).toMatchObject({ error: { code: 'E_USAGE' } });
  });

  it.each([
    ['one argument longer than Linux passes to a program', ['touch', 'ran', 'x'.repeat(131_072)], /argument 2 of the command is 131072 bytes/],
    ['arguments past the kernel\'s limit for them together', ['touch', 'ran', ...Array.from({ length: 24 }, () => 'x'.repeat(120_000))], /too large to start \(E2BIG/],
  ])('a run with %s is a usage error, recorded, never an internal error', async (_what, argv, message) => {
    const { log, send, answered, answer, project } = await serve();
    send(5, { name: 'run', arguments: { argv } });
    await pollFor('the answer', () => (answered(5) ? true : undefined), 60_000);
    expect(answer(5)).toMatch(message);
    expect(answer(5)).not.toContain('internal error');
    const records = await pollFor('its record', () => (runs(log).length > 0 ? runs(log) : undefined));
    expect(records[0]).toMatchObject({ error: { code: 'E_USAGE' } });
    expect(existsSync(join(project, 'ran'))).toBe(false);
  });

  it('a run whose cwd holds a NUL byte is refused and recorded', async () => {
    const { log, send, answered, project } = await serve();
    send(4, { name: 'run', arguments: { argv: ['id'], cwd: `${project}\u0000` } });
    await pollFor('the answer', () => (answered(4) ? true : undefined));
    const records = await pollFor('its record', () => (runs(log).length > 0 ? runs(log) : undefined));
    expect(records[0]).toMatchObject({ error: { code: 'E_USAGE' } });
  });
});
