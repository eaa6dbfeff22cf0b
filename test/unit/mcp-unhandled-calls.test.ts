/** The transport watch of isolate mcp: tool calls the SDK answers without a handler are reported, handled ones are not. */
import { describe, expect, it } from 'vitest';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { WatchedTransport, type UnhandledCall } from '../../src/mcp/unhandled-calls.js';

type Tool = 'run' | 'check';
const isTool = (name: string): name is Tool => name === 'run' || name === 'check';

function setUp() {
  const sent: JSONRPCMessage[] = [];
  const inner: Transport = { start: async () => undefined, close: async () => undefined, send: async (m) => void sent.push(m) };
  const reported: UnhandledCall<Tool>[] = [];
  const watched = new WatchedTransport<Tool>(inner, isTool, async (c) => void reported.push(c));
  const received: JSONRPCMessage[] = [];
  watched.onmessage = (m) => void received.push(m);
  const call = (id: number, name: string, args: unknown): void =>
    inner.onmessage?.({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } } as JSONRPCMessage);
  const answer = (id: number, isError: boolean): Promise<void> =>
    watched.send({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `answer ${id}` }], isError } });
  return { watched, sent, reported, received, call, answer };
}

describe('WatchedTransport', () => {
  it('reports an error answer to a call no handler took, with its tool, arguments and message', async () => {
    const t = setUp();
    t.call(1, 'run', { command: 'ls', allowWrite: ['/'] });
    await t.answer(1, true);
    expect(t.reported).toEqual([{ tool: 'run', args: { command: 'ls', allowWrite: ['/'] }, message: 'answer 1' }]);
    expect(t.received).toHaveLength(1);
    expect(t.sent).toHaveLength(1);
  });

  it('reports nothing for a call a handler took, a successful answer, or a tool it does not know', async () => {
    const t = setUp();
    t.call(1, 'run', {});
    t.watched.take(1);
    await t.answer(1, true);
    t.call(2, 'check', {});
    await t.answer(2, false);
    t.call(3, 'other', {});
    await t.answer(3, true);
    expect(t.reported).toEqual([]);
    expect(t.sent).toHaveLength(3);
  });

  it('reports a JSON-RPC error answer to a call no handler took (arguments the SDK refuses before the schema: a string, a constructor key)', async () => {
    const t = setUp();
    t.call(4, 'run', 'rm -rf /');
    await t.watched.send({ jsonrpc: '2.0', id: 4, error: { code: -32602, message: 'bad' } });
    expect(t.reported).toEqual([{ tool: 'run', args: 'rm -rf /', message: 'bad' }]);
    // Once: a second answer under the same id (none should come) reports nothing more.
    await t.answer(4, true);
    expect(t.reported).toHaveLength(1);
  });
});
