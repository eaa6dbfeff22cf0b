/**
 * Calls the SDK answers without reaching a tool's handler: arguments that do
 * not match the tool's input schema (a key beyond it, such as a path to
 * allow, or a wrong type). The SDK answers those with a tool error of its
 * own, or, for arguments it refuses before the tool's schema (not an object,
 * a `constructor` key), with a JSON-RPC error; a client trying to widen the
 * sandbox is exactly what the audit log should show, so they are recorded
 * too. Seen on the transport: a `tools/call` request of a known tool that
 * no handler took (`take`) and that is answered with an error result or an
 * error response is recorded before the answer goes out.
 *
 * A request id names one call until it is answered (JSON-RPC). A request
 * that reuses the id of one still in progress would make two calls share
 * one answer, and the wrong one (or none) be recorded: it is answered here
 * with an error, recorded when it is a tool call, and never reaches the SDK.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '@modelcontextprotocol/sdk/types.js';

/** A call no handler took: its tool, its arguments as sent, and the SDK's answer. */
export interface UnhandledCall<T extends string> {
  tool: T;
  args: unknown;
  message: string;
}

interface Pending<T extends string> {
  tool: T;
  args: unknown;
}

/** The text of an error result, or null when `result` is not one. */
function errorText(result: Record<string, unknown>): string | null {
  if (result['isError'] !== true || !Array.isArray(result['content'])) return null;
  const texts = (result['content'] as unknown[]).map((c) => (typeof c === 'object' && c !== null && 'text' in c ? String(c.text) : ''));
  return texts.join('');
}

/** A transport that passes everything through and reports the tool calls no handler took. */
export class WatchedTransport<T extends string> implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: Transport['onmessage'];
  private readonly pending = new Map<RequestId, Pending<T>>();
  /** The ids of the requests not answered yet. */
  private readonly open = new Set<RequestId>();

  constructor(
    private readonly inner: Transport,
    private readonly isTool: (name: string) => name is T,
    private readonly onUnhandled: (call: UnhandledCall<T>) => Promise<void>,
  ) {
    inner.onclose = () => this.onclose?.();
    inner.onerror = (e) => this.onerror?.(e);
    inner.onmessage = (message, extra) => {
      if (isJSONRPCRequest(message) && this.open.has(message.id)) {
        void this.refuseReused(message);
        return;
      }
      this.note(message);
      this.onmessage?.(message, extra);
    };
  }

  /** A handler took the call with this request id: it records the call itself. */
  take(id: RequestId): void {
    this.pending.delete(id);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (isJSONRPCResultResponse(message)) await this.settle(message.id, errorText(message.result));
    else if (isJSONRPCErrorResponse(message) && message.id !== undefined) await this.settle(message.id, message.error.message);
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) this.open.delete(message.id);
    return this.inner.send(message, options);
  }

  /** The tool a request calls, when it is a call of one of ours. */
  private toolOf(message: JSONRPCRequest): T | undefined {
    const tool = message.params?.['name'];
    return message.method === 'tools/call' && typeof tool === 'string' && this.isTool(tool) ? tool : undefined;
  }

  private note(message: JSONRPCMessage): void {
    if (!isJSONRPCRequest(message)) return;
    this.open.add(message.id);
    const tool = this.toolOf(message);
    if (tool !== undefined) this.pending.set(message.id, { tool, args: message.params?.['arguments'] });
  }

  /** A request whose id is still in use: recorded when it calls a tool, answered with an error, not handled. */
  private async refuseReused(message: JSONRPCRequest): Promise<void> {
    const text = `request id ${JSON.stringify(message.id)} is still in use by a call in progress; each request needs an id of its own`;
    const tool = this.toolOf(message);
    try {
      if (tool !== undefined) await this.onUnhandled({ tool, args: message.params?.['arguments'], message: text });
      await this.inner.send({ jsonrpc: '2.0', id: message.id, error: { code: ErrorCode.InvalidRequest, message: text } });
    } catch (e: unknown) {
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The answer to a call no handler took: recorded when it is an error (`message`). */
  private async settle(id: RequestId, message: string | null): Promise<void> {
    const call = this.pending.get(id);
    if (call === undefined) return;
    this.pending.delete(id);
    if (message !== null) await this.onUnhandled({ ...call, message });
  }
}
