/**
 * The filtering proxy on the host's loopback, for sandboxes that reach it
 * over TCP instead of a mounted socket (sandbox-exec: its profile lets the
 * command connect to localhost:<port> and nowhere else).
 *
 * It listens on the planned 127.0.0.1:<port> and fails closed (125) when it
 * cannot: if another program held that port, the command would reach that
 * program instead of the filter. It also claims [::1]:<port>, because
 * Seatbelt's "localhost" may name the IPv6 loopback too: a program listening
 * there would otherwise be reachable unfiltered. Without an IPv6 loopback
 * nothing can listen there, and that is fine.
 */
import { IsolateError, errnoCode } from '../errors.js';
import type { FilterProxy } from '../network/proxy.js';

/** The IPv6 loopback is missing or disabled: nothing can listen there. */
const NO_IPV6 = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'EINVAL']);

function cannotListen(address: string, e: unknown): IsolateError {
  const code = errnoCode(e) ?? String(e);
  return new IsolateError('E_NETWORK_PROXY', `the network proxy could not listen on ${address}: ${code}; the command was not run`, {
    cause: e,
    ...(code === 'EADDRINUSE'
      ? {
          detail: 'another program listens on that port, and the sandbox could reach it unfiltered',
          fix: 'run again: each run picks a new port (or stop the program that holds it)',
        }
      : {}),
  });
}

/** Start proxies from `make` on `tcp` and on [::1] at the same port; returns how to stop them. */
export async function listenLoopback(tcp: { host: string; port: number }, make: () => FilterProxy): Promise<(() => Promise<void>)[]> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const v4 = make();
    try {
      await v4.listen({ host: tcp.host, port: tcp.port });
    } catch (e: unknown) {
      throw cannotListen(`${tcp.host}:${tcp.port}`, e);
    }
    stops.push(() => v4.close());
    const v6 = make();
    try {
      await v6.listen({ host: '::1', port: tcp.port });
      stops.push(() => v6.close());
    } catch (e: unknown) {
      if (!NO_IPV6.has(errnoCode(e) ?? '')) throw cannotListen(`[::1]:${tcp.port}`, e);
    }
  } catch (e: unknown) {
    for (const stop of stops.reverse()) await stop();
    throw e;
  }
  return stops;
}
