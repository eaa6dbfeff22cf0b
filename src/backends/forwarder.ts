/**
 * Inside a filtered sandbox there is no network but loopback. A forwarder
 * (socat) listens on 127.0.0.1:PROXY_PORT and relays each connection to the
 * proxy's unix socket, bind-mounted at SANDBOX_SOCKET. This shell script
 * starts it detached (so the command has no extra child), waits until it
 * listens, then execs the command. It contains no user-controlled text: the
 * command and its arguments arrive as "$@".
 *
 * The wait is a blocking read, not a poll: socat's stderr (`-d -d`: notices)
 * is a pipe to the shell, and socat writes "listening on ..." right after
 * listen(2) and before its first accept. A socat that fails (no such
 * address, options it does not know) exits, the pipe ends, and the command
 * is not run (125). Once the reader has gone, socat's later notices fail
 * with EPIPE, which it ignores (it sets SIGPIPE to SIG_IGN itself; the trap
 * covers the moments before). `-b`: socat reads up to 256 KiB at a time
 * (the default, 8 KiB, costs a system call pair per 8 KiB); larger reads
 * measured no faster. `nodelay`: socat writes each piece it relays at once;
 * with Nagle, a reply that arrives in two pieces waited for the client's
 * delayed ACK, 40 ms per such request in a CONNECT tunnel.
 *
 * Pure and plan-time: the backends write the script, the addresses and the
 * proxy variables into the plan. The proxy itself (network/) runs beside
 * the sandbox and needs none of it.
 */
export const PROXY_PORT = 3128;
export const SANDBOX_NET_DIR = '/run/isolate';
export const SANDBOX_SOCKET = `${SANDBOX_NET_DIR}/proxy.sock`;
export const PROXY_URL = `http://127.0.0.1:${PROXY_PORT}`;

export function forwarderScript(socat: string): string {
  const listen = `TCP-LISTEN:${PROXY_PORT},bind=127.0.0.1,fork,reuseaddr,nodelay`;
  return [
    `if { (trap '' PIPE; exec ${socat} -d -d -b 262144 ${listen} UNIX-CONNECT:${SANDBOX_SOCKET} </dev/null 2>&1 >/dev/null &); } |`,
    "  { last=''; while IFS= read -r line; do case $line in *' listening on '*) exit 0;; esac; last=$line; done",
    '    echo "isolate: the network forwarder (socat) did not start${last:+: $last}" >&2; exit 1; }',
    'then exec "$@"; fi',
    'exit 125',
  ].join('\n');
}

/**
 * What common clients read to find the proxy at `authority` (host:port;
 * the forwarder's inside a sandbox). NO_PROXY is removed so nothing bypasses it.
 */
export function proxyEnvironment(authority = `127.0.0.1:${PROXY_PORT}`): Record<string, string> {
  const http = `http://${authority}`;
  const socks = `socks5h://${authority}`;
  return {
    HTTP_PROXY: http,
    HTTPS_PROXY: http,
    ALL_PROXY: socks,
    http_proxy: http,
    https_proxy: http,
    all_proxy: socks,
    npm_config_proxy: http,
    npm_config_https_proxy: http,
    YARN_HTTP_PROXY: http,
    YARN_HTTPS_PROXY: http,
    PIP_PROXY: http,
    GLOBAL_AGENT_HTTP_PROXY: http,
    NODE_USE_ENV_PROXY: '1',
  };
}

export const BYPASS_VARIABLES = ['NO_PROXY', 'no_proxy'];

/** With credentials: the name of the run's trust bundle (the system's roots and the run's CA), which run/ writes into the proxy's directory. */
export const CA_BUNDLE_NAME = 'ca-bundle.pem';

/** That bundle, where the sandbox sees it. */
export const CA_BUNDLE = `${SANDBOX_NET_DIR}/${CA_BUNDLE_NAME}`;

/** The variables through which common tools read a CA bundle; each names the run's bundle (caller's values replaced). */
export const CA_VARIABLES = [
  'SSL_CERT_FILE',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'PIP_CERT',
  'CARGO_HTTP_CAINFO',
  'AWS_CA_BUNDLE',
  'DENO_CERT',
  'CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE',
  'NIX_SSL_CERT_FILE',
  'npm_config_cafile',
] as const;

export function caEnvironment(): Record<string, string> {
  return Object.fromEntries(CA_VARIABLES.map((name) => [name, CA_BUNDLE]));
}
