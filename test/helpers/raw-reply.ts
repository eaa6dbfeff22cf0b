/**
 * A loopback server's connection handler that answers one request with
 * bytes written as they are (a malformed or hostile response no HTTP
 * library would send): it reads the request head, and ends the connection
 * with `answer(head)`. Each socket is kept in `sockets` until it closes, so
 * that a test can destroy what is still open when it stops its server.
 */
import type { Socket } from 'node:net';

export function rawReply<S extends Socket>(sockets: Set<S>, answer: (head: string) => string): (socket: S) => void {
  return (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let head = '';
    s.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end !== -1) s.end(answer(head.slice(0, end)), 'latin1');
    });
  };
}
