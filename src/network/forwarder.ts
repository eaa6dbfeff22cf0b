/**
 * Inside a filtered sandbox there is no network but loopback. A forwarder
 * (socat) listens on 127.0.0.1:PROXY_PORT and relays each connection to the
 * proxy's unix socket, bind-mounted at SANDBOX_SOCKET. This shell script
 * starts it detached (so the command has no extra child), waits until it
 * listens, then execs the command. It contains no user-controlled text: the
 * command and its arguments arrive as "$@".
 */
export const PROXY_PORT = 3128;
export const SANDBOX_NET_DIR = '/run/isolate';
export const SANDBOX_SOCKET = `${SANDBOX_NET_DIR}/proxy.sock`;
export const PROXY_URL = `http://127.0.0.1:${PROXY_PORT}`;

const portHex = PROXY_PORT.toString(16).toUpperCase().padStart(4, '0');

export function forwarderScript(socat: string): string {
  return [
    `(exec ${socat} -b 262144 TCP-LISTEN:${PROXY_PORT},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${SANDBOX_SOCKET} </dev/null >/dev/null 2>&1 &)`,
    'i=0',
    'while :; do',
    '  while read -r sl local rem st rest; do',
    `    if [ "$local" = 0100007F:${portHex} ] && [ "$st" = 0A ]; then exec "$@"; fi`,
    '  done < /proc/net/tcp',
    '  i=$((i+1))',
    '  if [ "$i" -gt 3000 ]; then echo "isolate: the network forwarder (socat) did not start" >&2; exit 125; fi',
    '  sleep 0.001 2>/dev/null || :',
    'done',
  ].join('\n');
}

/** What common clients read to find a proxy. NO_PROXY is removed so nothing bypasses it. */
export function proxyEnvironment(): Record<string, string> {
  const socks = `socks5h://127.0.0.1:${PROXY_PORT}`;
  return {
    HTTP_PROXY: PROXY_URL,
    HTTPS_PROXY: PROXY_URL,
    ALL_PROXY: socks,
    http_proxy: PROXY_URL,
    https_proxy: PROXY_URL,
    all_proxy: socks,
    npm_config_proxy: PROXY_URL,
    npm_config_https_proxy: PROXY_URL,
    YARN_HTTP_PROXY: PROXY_URL,
    YARN_HTTPS_PROXY: PROXY_URL,
    PIP_PROXY: PROXY_URL,
    GLOBAL_AGENT_HTTP_PROXY: PROXY_URL,
    NODE_USE_ENV_PROXY: '1',
  };
}

export const BYPASS_VARIABLES = ['NO_PROXY', 'no_proxy'];
