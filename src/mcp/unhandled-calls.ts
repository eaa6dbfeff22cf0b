/**
 * Calls the SDK answers without reaching a tool's handler: arguments that do
 * not match the tool's input schema (a key beyond it, such as a path to
 * allow, or a wrong type). The SDK answers those with a tool error of its
 * own; a client trying to widen the sandbox is exactly what the audit log
 * should show, so they are recorded too. Seen on the transport: a
 * `tools/call` request of a known tool that no handler took (`take`) and
 * that is answered with an error result is recorded before the answer goes
 * out.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

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

  constructor(
    private readonly inner: Transport,
    private readonly isTool: (name: string) => name is T,
    private readonly onUnhandled: (call: UnhandledCall<T>) => Promise<void>,
  ) {
    inner.onclose = () => this.onclose?.();
    inner.onerror = (e) => this.onerror?.(e);
    inner.onmessage = (message, extra) => {
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
    if (isJSONRPCResultResponse(message)) await this.settle(message.id, message.result);
    else if (isJSONRPCErrorResponse(message) && message.id !== undefined) this.pending.delete(message.id);
    return this.inner.send(message, options);
  }

  private note(message: JSONRPCMessage): void {
    if (!isJSONRPCRequest(message) || message.method !== 'tools/call') return;
    const tool = message.params?.['name'];
    if (typeof tool === 'string' && this.isTool(tool)) this.pending.set(message.id, { tool, args: message.params?.['arguments'] });
  }

  private async settle(id: RequestId, result: Record<string, unknown>): Promise<void> {
    const call = this.pending.get(id);
    if (call === undefined) return;
    this.pending.delete(id);
    const message = errorText(result);
    if (message !== null) await this.onUnhandled({ ...call, message });
  }
}
