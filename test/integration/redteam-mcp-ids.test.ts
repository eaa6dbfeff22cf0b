/**
 * Red team: an MCP client that reuses a request id. JSON-RPC gives every
 * request in progress an id of its own; a client that sends a call the SDK
 * refuses for its arguments (an attempt to widen the sandbox) together with
 * a harmless call under the same id could make the refused call's answer
 * settle the harmless one, so the attempt went unrecorded and the audit log
 * showed only the harmless call. Every call must be in the audit log, as it
 * was sent, in either order; the reused id is answered with an error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawMcpSite, type McpProcess } from '../helpers/mcp.js';
import { auditRecords, pollFor, runners } from '../helpers/isolate.js';

const WIDEN = { name: 'run', arguments: { command: 'echo widened', allowWrite: ['/'] } };
const HARMLESS = { name: 'check', arguments: { argv: ['echo', 'harmless'] } };

describe.each(runners().map((runner) => ({ label: runner.label, runner })))('isolate mcp, a reused request id ($label)', ({ runner }) => {
  const cleanups: (() => void)[] = [];
  const servers: McpProcess[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const c of cleanups.splice(0)) c();
  });

  for (const [order, calls] of [
    ['refused call first', [WIDEN, HARMLESS]],
    ['harmless call first', [HARMLESS, WIDEN]],
  ] as const) {
    it(`${order}: both calls are recorded as sent, and the second is answered with an error`, async () => {
      const { server, log, answers, cleanup } = await rawMcpSite(runner, 'isolate-it-mcp-ids-');
      cleanups.push(cleanup);
      servers.push(server);
      // Both requests in one write, as a hostile client sends them: the server reads them together.
      const lines = calls.map((params) => JSON.stringify({ jsonrpc: '2.0', id: 'reused', method: 'tools/call', params }));
      server.child.stdin?.write(`${lines.join('\n')}\n`);
      const records = await pollFor('two mcp-call records', () => {
        const r = auditRecords(log).filter((x) => x['kind'] === 'mcp-call');
        return r.length >= 2 ? r : undefined;
      });
      const byTool = (tool: string): Record<string, unknown> | undefined => records.find((x) => (x['origin'] as { tool: string }).tool === tool);
      expect(JSON.stringify(byTool('run')?.['command'])).toContain('echo widened');
      expect(byTool('run')).toMatchObject({ error: { code: 'E_USAGE' } });
      expect(byTool('check')?.['command']).toEqual(['echo', 'harmless']);
      await pollFor('the answers to both requests', () => (answers().split('"id":"reused"').length > 2 ? true : undefined));
      expect(answers()).toContain('request id \\"reused\\" is still in use');
    });
  }
});
