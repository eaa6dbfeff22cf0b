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
import { ChunkedDecoder } from './chunked.js';
import { MAX_RESPONSE_HEAD, framing, parseResponseHead, type Framing, type ResponseHead } from './response-head.js';

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

/** What the response is handed to. Each call at most once, in this order; `fail` instead of the rest, or after `head`. */
export interface ResponseSink {
  head(head: ResponseHead, framing: Framing): void;
  /** Body bytes, views of a buffer that is reused once `release` has been called. */
  body(pieces: Buffer[], release: () => void): void;
  end(): void;
  fail(reason: string): void;
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

const SLAB = 1 << 20;
/** A TLS record's data is at most 16 KiB: a buffer with less room than this left is handed on and replaced. */
const MIN_ROOM = 32 * 1024;

interface Slab {
  buf: Buffer;
  pending: number;
  retired: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Reads a response from the bytes of one connection: head (1xx heads skipped), then body by its framing. */
class ResponseReader {
  private head: Buffer | undefined = Buffer.alloc(0);
  private frame: Framing | undefined;
  private left = 0;
  private readonly chunks = new ChunkedDecoder();
  done = false;

  constructor(
    private readonly method: string,
    private readonly sink: ResponseSink,
  ) {}

  /** The next bytes; an error message when the response is malformed. */
  push(piece: Buffer, release: () => void): string | undefined {
    if (this.head === undefined) return this.readBody(piece, release);
    // The head is read from a copy: the piece is free at once, and the body's first bytes are in the copy.
    const r = this.readHead(piece);
    release();
    return typeof r === 'string' ? r : r === undefined ? undefined : this.readBody(r, () => undefined);
  }

  /** The bytes after the head, undefined while it is incomplete, or an error. */
  private readHead(piece: Buffer): Buffer | string | undefined {
    for (let data = Buffer.concat([this.head ?? Buffer.alloc(0), piece]); ; ) {
      const end = data.indexOf(HEAD_END);
      if (end === -1) {
        if (data.length > MAX_RESPONSE_HEAD) return 'the upstream response head is too large';
        this.head = data;
        return undefined;
      }
      const head = parseResponseHead(data.toString('latin1', 0, end));
      if ('error' in head) return head.error;
      if (head.status === 101) return 'the upstream server switched protocols; isolate relays HTTP/1.1 only';
      data = data.subarray(end + 4);
      if (head.status >= 200) return this.startBody(head, data);
    }
  }

  private startBody(head: ResponseHead, rest: Buffer): Buffer | string {
    const f = framing(head, this.method);
    if ('error' in f) return f.error;
    this.head = undefined;
    this.frame = f;
    this.left = f.kind === 'length' ? f.length : 0;
    this.sink.head(head, f);
    return rest;
  }

  private readBody(piece: Buffer, release: () => void): string | undefined {
    const f = this.frame;
    let pieces: Buffer[] = [];
    if (f?.kind === 'close') pieces = [piece];
    else if (f?.kind === 'length') {
      const n = Math.min(this.left, piece.length);
      this.left -= n;
      pieces = [piece.subarray(0, n)];
    } else if (f?.kind === 'chunked') {
      const r = this.chunks.push(piece);
      if ('error' in r) return r.error;
      pieces = r.data;
      this.done = r.done;
    }
    this.done ||= f?.kind === 'none' || (f?.kind === 'length' && this.left === 0);
    pieces = pieces.filter((p) => p.length > 0);
    if (pieces.length > 0) this.sink.body(pieces, release);
    else release();
    if (this.done) this.sink.end();
    return undefined;
  }

  /** The connection ended: the end of a body framed by it, else a response cut short. */
  ended(): string | undefined {
    if (this.done) return undefined;
    if (this.frame?.kind !== 'close') return 'the upstream server closed the connection before the response ended';
    this.done = true;
    this.sink.end();
    return undefined;
  }
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
  const spare: Buffer[] = [];
  let slab: Slab = { buf: Buffer.allocUnsafeSlow(SLAB), pending: 0, retired: false };
  let start = 0;
  let end = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (end === start || finished) return;
    const s = slab;
    s.pending++;
    const piece = s.buf.subarray(start, end);
    start = end;
    const error = reader.push(piece, () => {
      if (--s.pending === 0 && s.retired) spare.push(s.buf);
    });
    if (error !== undefined) fail(error);
  };
  // node's tls.connect takes onread as net.connect does (its types do not say so).
  const options: ConnectionOptions & { onread: OnReadOpts } = {
    host: req.address,
    port: req.port,
    // Verified (node's checkServerIdentity) as the CONNECT host: the servername, or for an IP address host, the address.
    ...(ipVersion(req.host) === 0 ? { servername: req.host } : {}),
    secureContext: tls.context,
    ...(tls.session === undefined ? {} : { session: tls.session }),
    onread: {
      buffer: () => {
        if (slab.buf.length - end < MIN_ROOM) {
          flush();
          slab.retired = true;
          if (slab.pending === 0) spare.push(slab.buf);
          slab = { buf: spare.pop() ?? Buffer.allocUnsafeSlow(SLAB), pending: 0, retired: false };
          start = end = 0;
        }
        return slab.buf.subarray(end);
      },
      callback: (n: number): boolean => {
        end += n;
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
        return true;
      },
    },
  };
  const socket: TLSSocket = connect(options);
  socket.setNoDelay(true);
  socket.on('session', tls.onSession);
  socket.on('error', (e: Error) => fail(`the upstream connection to ${req.host}:${req.port} failed: ${e.message}`));
  socket.once('end', () => {
    flush();
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
