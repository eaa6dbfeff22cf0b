/**
 * What a relay does to the bytes of a connection besides counting them:
 * hold the first bytes until a gate decides on them (the TLS ClientHello's
 * server name of a CONNECT or SOCKS5 tunnel, the head of plain HTTP in
 * one), check what goes up (placeholders of the run's credentials) and what comes
 * down (a compressed response), scrub what comes down (their values).
 */
import { parseClientHello } from './client-hello.js';
import { normalizeHost } from './rules.js';
import type { Scrubber } from './credentials/scrub.js';

export type GateVerdict = 'more' | 'pass' | { pass: Buffer } | { refused: string };

/** What a relay does to the bytes besides counting them (credentials): check what goes up, scrub what comes down. */
export interface RelayFilter {
  /** Why the connection must end, given the next bytes the client sends; undefined to pass them on. */
  checkUp?: (chunk: Buffer) => string | undefined;
  /** Why the connection must end, given the next bytes from upstream (before they are scrubbed and passed on); undefined to pass them on. */
  checkDown?: (chunk: Buffer) => string | undefined;
  scrubDown?: Scrubber;
  /** Decides on the first bytes the client sends (all of them so far): wait for more, pass them all on (or others in their place), or end the connection and why. */
  gate?: (data: Buffer) => GateVerdict;
}

/** `send` behind `gate`: the first bytes are held until the gate decides, then passed on (or what it gives instead, or the connection refused); the rest go straight through. */
export function gated(gate: NonNullable<RelayFilter['gate']>, send: (c: Buffer) => void, refuse: (reason: string) => void): (c: Buffer) => void {
  let held: Buffer | undefined = Buffer.alloc(0);
  return (c) => {
    if (held === undefined) return send(c);
    const data: Buffer = Buffer.concat([held, c]);
    const verdict = gate(data);
    if (verdict === 'more') {
      held = data;
      return;
    }
    held = undefined;
    if (verdict === 'pass') send(data);
    else if ('pass' in verdict) send(verdict.pass);
    else refuse(verdict.refused);
  };
}

/** The gate of a CONNECT or SOCKS5 tunnel: a TLS ClientHello must name the tunnel's host, or none (domain fronting). */
export function sniGate(host: string, kind: 'CONNECT' | 'SOCKS5'): NonNullable<RelayFilter['gate']> {
  return (data) => {
    const hello = parseClientHello(data);
    if (hello.kind === 'incomplete') return 'more';
    if (hello.kind === 'not-tls') return 'pass';
    if (hello.kind === 'malformed') return { refused: 'the tunnel began with a malformed TLS ClientHello' };
    const name = hello.serverName;
    if (name === undefined || normalizeHost(name) === host) return 'pass';
    return { refused: `the TLS server name ${JSON.stringify(name)} is not the ${kind} host ${host} (domain fronting)` };
  };
}

/** Every check on each chunk (each may record what it saw), and the first reason to end the connection. */
export function allChecks(...checks: (((chunk: Buffer) => string | undefined) | undefined)[]): (chunk: Buffer) => string | undefined {
  const given = checks.filter((c) => c !== undefined);
  return (chunk) => given.map((check) => check(chunk)).find((reason) => reason !== undefined);
}
