/**
 * The filtering proxy as a server of its own (`isolate proxy`): the same
 * FilterProxy, rules and address guard as a filtered run, listening on a
 * loopback port or a unix socket named by the user. A non-loopback address
 * is refused unless the caller says so: an open proxy lets anyone who can
 * reach it use the allowed hosts from this machine.
 */
import { FilterProxy, type NetworkEvent } from './proxy.js';
import { ipVersion, normalizeHost, ruleSet } from './rules.js';
import { IsolateError } from '../errors.js';

export type ListenTarget = { path: string } | { host: string; port: number };

/** `host:port` (IPv6 in brackets) or a unix socket path (anything with a `/`). */
export function parseListen(spec: string): ListenTarget {
  if (spec.includes('/')) return { path: spec };
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(spec);
  const host = m === null ? undefined : normalizeHost(m[1] ?? m[2] ?? '');
  const port = m === null ? NaN : Number(m[3]);
  if (host === undefined || ipVersion(host) === 0 || !(port >= 0 && port <= 65535)) {
    throw new IsolateError('E_USAGE', `--listen ${JSON.stringify(spec)}: expected an IP address and port (127.0.0.1:3128, [::1]:3128) or a unix socket path`, {
      fix: 'give --listen 127.0.0.1:<port> or --listen /path/to/proxy.sock',
    });
  }
  return { host, port };
}

/** 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  return ipVersion(host) === 4 ? host.startsWith('127.') : host === '::1';
}

export interface ProxyServerOptions {
  allow: readonly string[];
  deny: readonly string[];
  listen: string;
  allowRemote?: boolean | undefined;
  onEvent?: ((event: NetworkEvent) => void) | undefined;
}

export interface ProxyServer {
  /** `127.0.0.1:3128` (the port chosen when 0 was asked) or the socket path. */
  address: string;
  /** Whether it listens on an address other machines may reach (allowed by --allow-remote). */
  remote: boolean;
  counts: { allowed: number; denied: number };
  /** Sockets open now (clients' and upstreams'): 0 when nothing is in flight. */
  readonly open: number;
  /**
   * Stop listening at once, give open connections up to `graceMs` to finish
   * (default 0), close those still open (or all at once when `cut` settles
   * first), and resolve once each has been recorded.
   */
  stop(graceMs?: number, cut?: Promise<unknown>): Promise<void>;
}

export async function startProxyServer(o: ProxyServerOptions): Promise<ProxyServer> {
  const target = parseListen(o.listen);
  const remote = 'host' in target && !isLoopback(target.host);
  if (remote && o.allowRemote !== true) {
    throw new IsolateError('E_USAGE', `--listen ${o.listen}: not a loopback address; anyone who can reach it could use the proxy`, {
      fix: 'listen on 127.0.0.1 or a unix socket, or add --allow-remote if an open proxy is what you want',
    });
  }
  const proxy = new FilterProxy({ rules: ruleSet(o.allow, o.deny), ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }) });
  try {
    await proxy.listen(target);
  } catch (e: unknown) {
    throw new IsolateError('E_NETWORK_PROXY', `cannot listen on ${o.listen}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const a = proxy.address();
  const address = 'path' in target ? target.path : typeof a === 'object' && a !== null ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : o.listen;
  const { log } = proxy;
  return {
    address,
    remote,
    get counts() {
      const seen = (d: NetworkEvent['decision']): number => log.events.filter((e) => e.decision === d).length + log.omitted[d];
      return { allowed: seen('allowed'), denied: seen('denied') };
    },
    get open() {
      return proxy.open;
    },
    stop: (graceMs, cut) => proxy.close(graceMs, cut),
  };
}
