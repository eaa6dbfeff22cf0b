/**
 * Whether a request that carries a credential's placeholder also carries
 * authentication of the command's own: then the command's own account on
 * the host is let in, and the placeholder, wherever else it stands (a path
 * that names a file, a message's text in the query), is data that account
 * keeps, where the command reads the real value back. Hosts take a token
 * in more places than Authorization: GitLab in PRIVATE-TOKEN, JOB-TOKEN or
 * ?private_token=, Anthropic and many others in X-Api-Key, Google in
 * X-Goog-Api-Key or ?key=, Slack in ?token=, and a web session in a
 * cookie. A cookie counts only when the placeholder is not itself in an
 * authentication header or parameter: a client with a cookie jar sends a
 * CDN's cookies (Cloudflare's __cf_bm) beside the token it authenticates
 * with, and those let no account in that could keep it.
 */
import { decodeBasic } from './basic-auth.js';

/** Request headers that authenticate a request by themselves (lower case). */
const AUTH_HEADERS: ReadonlySet<string> = new Set([
  'authorization', 'private-token', 'job-token', 'deploy-token', 'x-api-key', 'api-key', 'x-auth-token', 'x-access-token', 'x-goog-api-key',
]);

/** Query parameters that authenticate a request by themselves (lower case). */
const AUTH_PARAMS: ReadonlySet<string> = new Set(['access_token', 'private_token', 'job_token', 'token', 'auth_token', 'api_key', 'apikey', 'key', 'auth']);

/** A header value as it may hold a placeholder: itself, and the user:password of a Basic authorization. */
function holds(value: string, placeholder: string): boolean {
  return value.includes(placeholder) || decodeBasic(value)?.includes(placeholder) === true;
}

/** The query's parameters, decoded, names in lower case (a malformed escape stays as written). */
function queryParams(target: string): [string, string][] {
  const at = target.indexOf('?');
  return at === -1 ? [] : [...new URLSearchParams(target.slice(at + 1))].map(([n, v]) => [n.toLowerCase(), v]);
}

/** The request's authentication of its own beside `placeholder`: the header or parameter that carries it, or undefined. */
export function ownAuthentication(req: { target: string; headers: readonly [string, string][] }, placeholder: string): string | undefined {
  const headers = req.headers.map(([n, v]): [string, string] => [n.toLowerCase(), v]);
  const params = queryParams(req.target);
  const inAuthentication = headers.some(([n, v]) => AUTH_HEADERS.has(n) && holds(v, placeholder)) || params.some(([n, v]) => AUTH_PARAMS.has(n) && v.includes(placeholder));
  const header = headers.find(([n, v]) => (AUTH_HEADERS.has(n) || (n === 'cookie' && !inAuthentication)) && !holds(v, placeholder));
  if (header !== undefined) return `header ${header[0]}`;
  const param = params.find(([n, v]) => AUTH_PARAMS.has(n) && !v.includes(placeholder));
  return param === undefined ? undefined : `query parameter ${param[0]}`;
}
