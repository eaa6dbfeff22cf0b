/**
 * One request of a terminated tunnel sent on to the real server over a new
 * TLS connection that verifies it (the secure context holds the trusted
 * roots), and its response read here rather than by node's HTTP client:
 * the decrypted bytes land back to back in 1 MiB buffers (onread) and are
 * handed on once per turn of the event loop, as views, so a download costs
 * one write to the client per turn instead of a stream hop, an allocation
 * and a write per 16 KiB TLS record. The head is read strictly
 * (response-head.ts), the body's end found by its framing (a chunked body
 * taken out of its chunks, chunked.ts); anything malformed or cut short is
 * reported, never passed on as if whole.
 */
import type { IncomingMessage } from 'node:http';
import type { OnReadOpts } from 'node:net';
import { connect, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import { ipVersion } from '../rules.js';
import { BatchedReads } from './batched-reads.js';
import { ResponseReader, type ResponseSink } from './response-reader.js';

export interface UpstreamRequest {
  host: string;
  port: number;
  /** The address the proxy connects to (the rules' choice); the server is verified as `host`. */
  address: string;
  method: string;
  target: string;
  /** Without the hop-by-hop ones; Host included. */
  headers: readonly [string, string][];
}

/** How the connection's TLS starts: the roots it verifies against, and a session of an earlier connection to resume (the server's certificate was verified then). */
export interface UpstreamTls {
  context: SecureContext;
  session: Buffer | undefined;
  /** Hears each session the server offers for resumption. */
  onSession: (session: Buffer) => void;
}

export interface Exchange {
  pause(): void;
  resume(): void;
  destroy(): void;
}

/** Send `req` (its body: read already, or streamed from the client's request) and read the response into `sink`. */
export function exchange(req: UpstreamRequest, tls: UpstreamTls, body: Buffer | IncomingMessage, sink: ResponseSink): Exchange {
  let finished = false;
  const reader = new ResponseReader(req.method, {
    ...sink,
    end: () => {
      finished = true;
      sink.end();
      socket.destroy();
    },
  });
  const fail = (reason: string): void => {
    if (finished) return;
    finished = true;
    sink.fail(reason);
    socket.destroy();
  };
  const reads = new BatchedReads((piece, release) => {
    if (finished) return release();
    const error = reader.push(piece, release);
    if (error !== undefined) fail(error);
  });
  // node's tls.connect takes onread as net.connect does (its types do not say so).
  const options: ConnectionOptions & { onread: OnReadOpts } = {
    host: req.address,
    port: req.port,
    // Verified (node's checkServerIdentity) as the CONNECT host: the servername, or for an IP address host, the address.
    ...(ipVersion(req.host) === 0 ? { servername: req.host } : {}),
    secureContext: tls.context,
    ...(tls.session === undefined ? {} : { session: tls.session }),
    onread: reads.onread,
  };
  const socket: TLSSocket = connect(options);
  socket.setNoDelay(true);
  socket.on('session', tls.onSession);
  socket.on('error', (e: Error) => fail(`the upstream connection to ${req.host}:${req.port} failed: ${e.message}`));
  socket.once('end', () => {
    reads.flush();
    const error = reader.ended();
    if (error !== undefined) fail(error);
  });
  socket.once('close', () => fail(`the upstream connection to ${req.host}:${req.port} closed before the response ended`));
  sendRequest(socket, req, body);
  return {
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy: () => {
      finished = true;
      socket.destroy();
    },
  };
}

/** The request's head and body on `socket`: a body read already with its length, one streamed with the framing it came with. */
function sendRequest(socket: TLSSocket, req: UpstreamRequest, body: Buffer | IncomingMessage): void {
  const has = (name: string): boolean => req.headers.some(([n]) => n.toLowerCase() === name);
  const chunked = !(Buffer.isBuffer(body)) && !has('content-length') && /(^|,)\s*chunked\s*$/i.test(body.headers['transfer-encoding'] ?? '');
  const extra: [string, string][] = [['Connection', 'close']];
  if (Buffer.isBuffer(body) && !has('content-length') && (body.length > 0 || !['GET', 'HEAD'].includes(req.method))) extra.push(['Content-Length', String(body.length)]);
  if (chunked) extra.push(['Transfer-Encoding', 'chunked']);
  const lines = [`${req.method} ${req.target} HTTP/1.1`, ...[...req.headers, ...extra].map(([n, v]) => `${n}: ${v}`), '', ''];
  socket.write(Buffer.from(lines.join('\r\n'), 'latin1'));
  if (Buffer.isBuffer(body)) {
    if (body.length > 0) socket.write(body);
    return;
  }
  body.on('data', (c: Buffer) => {
    const ok = chunked ? socket.write(Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')])) : socket.write(c);
    if (!ok) {
      body.pause();
      socket.once('drain', () => body.resume());
    }
  });
  // The connection stays open for the response: only a chunked body has an end of its own to send.
  body.once('end', () => chunked && socket.write('0\r\n\r\n'));
}
