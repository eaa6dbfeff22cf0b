/**
 * The server name (SNI) of a TLS ClientHello, read from the first bytes a
 * client sends in a CONNECT tunnel, so that the proxy can refuse a tunnel
 * whose TLS names another site than the CONNECT line it was allowed for
 * (domain fronting: a CDN routes by the name inside TLS).
 */

export type HelloParse =
  /** Not a TLS handshake (the tunnel carries something else). */
  | { kind: 'not-tls' }
  | { kind: 'incomplete' }
  /** A ClientHello, with its server name when it has one. */
  | { kind: 'hello'; serverName: string | undefined }
  | { kind: 'malformed' };

/** The ClientHello may span a few records; more than this is not waited for. */
export const MAX_HELLO = 64 * 1024;

/** The handshake bytes of the first records, as long as they are handshake records. */
function handshakeBytes(buf: Buffer): { data: Buffer; complete: boolean } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 5 <= buf.length && buf[at] === 0x16) {
    const len = buf.readUInt16BE(at + 3);
    if (at + 5 + len > buf.length) break;
    parts.push(buf.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  if (parts.length === 0 && buf.length >= 5 && buf[0] !== 0x16) return undefined;
  const data = Buffer.concat(parts);
  return { data, complete: data.length >= 4 && data.length >= 4 + data.readUIntBE(1, 3) };
}

/** The server_name extension's host name, from the extensions block. */
function serverNameIn(ext: Buffer): string | undefined | 'malformed' {
  let at = 0;
  while (at + 4 <= ext.length) {
    const type = ext.readUInt16BE(at);
    const len = ext.readUInt16BE(at + 2);
    const body = ext.subarray(at + 4, at + 4 + len);
    if (body.length !== len) return 'malformed';
    if (type === 0) {
      // server_name_list: length, then entries of type (0: host_name), length, name.
      if (body.length < 5 || body[2] !== 0) return 'malformed';
      const nameLen = body.readUInt16BE(3);
      if (5 + nameLen > body.length) return 'malformed';
      return body.subarray(5, 5 + nameLen).toString('latin1');
    }
    at += 4 + len;
  }
  return undefined;
}

export function parseClientHello(buf: Buffer): HelloParse {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] !== 0x16) return { kind: 'not-tls' };
  const hs = handshakeBytes(buf);
  if (hs === undefined) return { kind: 'not-tls' };
  if (!hs.complete) return buf.length > MAX_HELLO ? { kind: 'malformed' } : { kind: 'incomplete' };
  const h = hs.data;
  if (h[0] !== 1) return { kind: 'malformed' };
  // type(1) length(3) version(2) random(32) session_id(1+n) cipher_suites(2+n) compression(1+n) extensions(2+n)
  let at = 4 + 2 + 32;
  const skip = (lenBytes: 1 | 2): boolean => {
    if (at + lenBytes > h.length) return false;
    at += lenBytes + h.readUIntBE(at, lenBytes);
    return at <= h.length;
  };
  if (!skip(1) || !skip(2) || !skip(1)) return { kind: 'malformed' };
  if (at === h.length) return { kind: 'hello', serverName: undefined };
  if (at + 2 > h.length) return { kind: 'malformed' };
  const extLen = h.readUInt16BE(at);
  const name = serverNameIn(h.subarray(at + 2, at + 2 + extLen));
  return name === 'malformed' ? { kind: 'malformed' } : { kind: 'hello', serverName: name };
}
