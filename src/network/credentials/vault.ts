/**
 * The credentials of one run, in isolate's memory only. The proxy asks the
 * vault to rewrite each plain HTTP request it passes on: a placeholder in
 * the request target or a header (also inside `Authorization: Basic`'s
 * base64 user:password) becomes the real value when the request goes to one
 * of that credential's hosts within its ttl, in one place of the request
 * (a second is data the host could keep and give back: refused), and
 * not beside an Authorization of the command's own (the placeholder is then
 * data for that account: refused); a placeholder going anywhere else
 * refuses the request. An aws credential's values never travel in
 * place of its placeholders: a request that carries them must be signed with
 * the placeholder keys, and is signed again with the real ones
 * (aws-request.ts). Every injection and every refusal is recorded (name,
 * host, method, path without query, time), never a value.
 */
import { parseRule, ruleMatches, type DomainRule } from '../rules.js';
import { awsBodyNeeded, resignAws } from './aws-request.js';
import { BASIC, decodeBasic } from './basic-auth.js';
import { compressedResponseGuard } from './compressed-guard.js';
import { ownAuthentication } from './own-authentication.js';
import { sigV4Params } from './sigv4.js';
import { valuePairs, type AwsSigning, type CredentialEvent, type LoadedCredential } from './spec.js';
import { replacementsFor, scrubber, type Scrubber } from './scrub.js';

/** The port https uses: a rule that names it means https, whatever a request to it says. */
const HTTPS_PORT = 443;

export const MAX_CREDENTIAL_EVENTS = 1000;

export interface OutgoingRequest {
  method: string;
  host: string;
  port: number;
  /** Origin form: path and query. */
  target: string;
  headers: [string, string][];
  /** Whether the request goes on over TLS (a terminated tunnel) or in clear text (an http:// request). */
  tls: boolean;
}

export type Rewrite =
  | { ok: true; target: string; headers: [string, string][]; injected: string[] }
  | { ok: false; name: string; reason: string };

interface Entry {
  credential: LoadedCredential;
  rules: DomainRule[];
  expiresAt: number | undefined;
}

export class CredentialVault {
  readonly events: CredentialEvent[] = [];
  omitted = 0;
  private readonly entries: Entry[];
  /** Each value in any case of its letters, with its mask: for the response head (scrubText). */
  private readonly anyCase: { pattern: RegExp; mask: string }[];

  /** `now` counts milliseconds on a clock that only moves forward: setting the wall clock back must not lengthen a ttl. */
  constructor(credentials: readonly LoadedCredential[], private readonly now: () => number = () => performance.now()) {
    const start = now();
    this.entries = credentials.map((credential) => ({
      credential,
      rules: credential.spec.hosts.flatMap((h) => {
        const r = parseRule(h, 'allow');
        return r.ok ? [r.rule] : [];
      }),
      expiresAt: credential.spec.ttlMs === undefined ? undefined : start + credential.spec.ttlMs,
    }));
    // Longest first, as the scrubber replaces (scrub.ts): a value inside a longer one is not replaced within it.
    this.anyCase = credentials
      .flatMap((c) => valuePairs(c))
      .sort((a, b) => b.value.length - a.value.length)
      .map((v) => ({ pattern: new RegExp(v.value.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'gi'), mask: v.placeholder.slice(0, v.value.length) }));
  }

  /** The host part of every credential host pattern (`*.example.com`: example.com), for the run CA's name constraints. */
  hostNames(): string[] {
    return [...new Set(this.entries.flatMap((e) => e.rules.map((r) => r.host)))];
  }

  /** Whether any credential may be sent to host:port (its TLS is then terminated). */
  servesHost(host: string, port: number): boolean {
    return this.entries.some((e) => e.rules.some((r) => ruleMatches(r, host, port)));
  }

  /**
   * Why `e`'s value may not go to host:port now, or undefined when it may.
   * In clear text (`tls` false) only to a host and port a rule names
   * exactly (`localhost:8080`): a pattern without a port covers port 80,
   * and the value would cross the network readable by anyone on the way;
   * never to port 443, which a rule names to mean https.
   */
  private refusal(e: Entry, host: string, port: number, tls = true): string | undefined {
    const { name, hosts } = e.credential.spec;
    const rule = e.rules.find((r) => ruleMatches(r, host, port));
    if (rule === undefined) {
      return `the placeholder of credential ${name} was sent to ${host}:${port}; it is only added for ${hosts.join(', ')}`;
    }
    if (!tls && e.credential.aws !== undefined) {
      return `credential ${name} (aws) signs requests over https only: send it to https://${host}${port === 443 ? '' : `:${port}`}`;
    }
    if (!tls && port === HTTPS_PORT) {
      return `credential ${name} is not sent to ${host}:${port} over plain http (in clear text): port ${HTTPS_PORT} is https's, send it to https://${host}`;
    }
    if (!tls && !rule.explicit) {
      return `credential ${name} is not sent to ${host}:${port} over plain http (in clear text): use https, or name the host and port exactly in its hosts (e.g. "${host}:${port}")`;
    }
    if (e.expiresAt !== undefined && this.now() >= e.expiresAt) return `credential ${name} expired (ttl ${e.credential.spec.ttlMs} ms); its placeholder is no longer replaced`;
    return undefined;
  }

  /** The credentials with a placeholder in `text`. */
  private found(text: string): Entry[] {
    return this.entries.filter((e) => valuePairs(e.credential).some((v) => text.includes(v.placeholder)));
  }

  /** The texts of a request's head where a placeholder may be: the target, the header values, and inside Basic authorization. */
  private static texts(req: OutgoingRequest): string {
    return [req.target, ...req.headers.map(([, v]) => v), ...req.headers.map(([, v]) => decodeBasic(v) ?? '')].join('\n');
  }

  /** Whether `rewrite` needs the request's body: it carries an aws credential's placeholder and its payload is signed. */
  bodyNeeded(req: OutgoingRequest): boolean {
    return this.found(CredentialVault.texts(req)).some((e) => e.credential.aws !== undefined) && awsBodyNeeded(req);
  }

  /**
   * A check for the bytes after a request's head (its body, and whatever
   * follows on the connection): the reason to end it when a placeholder in
   * them is going where it may not, recorded once. Placeholders split
   * between two pieces are found too.
   */
  bodyWatch(req: Pick<OutgoingRequest, 'method' | 'host' | 'port' | 'target'>): (chunk: Buffer) => string | undefined {
    const keep = Math.max(0, ...this.entries.flatMap((e) => valuePairs(e.credential).map((v) => v.placeholder.length - 1)));
    let tail = Buffer.alloc(0);
    return (chunk) => {
      const data = Buffer.concat([tail, chunk]);
      tail = Buffer.from(data.subarray(Math.max(0, data.length - keep)));
      for (const e of this.entries) {
        const reason = valuePairs(e.credential).some((v) => data.includes(v.placeholder)) ? this.refusal(e, req.host, req.port) : undefined;
        if (reason === undefined) continue;
        this.record(req, e.credential.spec.name, 'refused', reason);
        return reason;
      }
      return undefined;
    };
  }

  /**
   * How many places of a request's head hold `placeholder`: each occurrence
   * in the target and in a header value (in a Basic authorization value, in
   * its decoded user:password).
   */
  private static places(req: OutgoingRequest, placeholder: string): number {
    const count = (text: string): number => text.split(placeholder).length - 1;
    return count(req.target) + req.headers.reduce((n, [, v]) => n + count(decodeBasic(v) ?? v), 0);
  }

  /** `req` with the values in, or refused; `body`: the request's body when bodyNeeded said so (undefined when it was too large to read). */
  rewrite(req: OutgoingRequest, body?: Buffer): Rewrite {
    const used = this.found(CredentialVault.texts(req));
    for (const e of used) {
      const reason = this.refusal(e, req.host, req.port, req.tls);
      if (reason !== undefined) return this.refuse(req, e, reason);
    }
    // A token is added in one place: a second would be data for the host to keep (a file named by the path, a message's text in the query), where it can be read back.
    const twice = used.find((e) => e.credential.aws === undefined && CredentialVault.places(req, e.credential.placeholder) > 1);
    if (twice !== undefined) {
      const { name } = twice.credential.spec;
      return this.refuse(req, twice, `the placeholder of credential ${name} is in more than one place of the request (target and headers); isolate adds it in one, where it authenticates, never as data the host could keep`);
    }
    // Nor where the request authenticates otherwise: the command's own account on the host makes the placeholder anywhere else data that account keeps.
    for (const e of used) {
      const own = e.credential.aws === undefined ? ownAuthentication(req, e.credential.placeholder) : undefined;
      if (own === undefined) continue;
      const { name } = e.credential.spec;
      return this.refuse(req, e, `the request carries authentication of its own (${own}, without the placeholder of credential ${name}) and that placeholder elsewhere; isolate adds it where it authenticates, never as data for another account to keep`);
    }
    const signer = used.find((e) => e.credential.aws !== undefined);
    const aws = signer?.credential.aws;
    return signer === undefined || aws === undefined ? this.swapTokens(req, used) : this.resign(req, body, signer, aws, used);
  }

  /** A request signed with an aws credential's placeholder keys, signed again with the real ones; it may carry no other credential's placeholder. */
  private resign(req: OutgoingRequest, body: Buffer | undefined, signer: Entry, aws: AwsSigning, used: readonly Entry[]): Rewrite {
    const { name } = signer.credential.spec;
    const other = used.find((e) => e !== signer);
    if (other !== undefined) return this.refuse(req, signer, `a request signed for credential ${name} also carries the placeholder of ${other.credential.spec.name}; isolate adds one credential to a signed request`);
    const r = resignAws(req, body, aws);
    if (!r.ok) return this.refuse(req, signer, `credential ${name} (aws): ${r.reason}; the request was not re-signed`);
    this.record(req, name, 'injected');
    // Accept-Encoding stays as it is when the signature covers it.
    const signsEncoding = sigV4Params(req)?.signedHeaders.includes('accept-encoding') === true;
    return { ok: true, target: r.target, headers: signsEncoding ? r.headers : uncompressed(r.headers), injected: [name] };
  }

  private refuse(req: OutgoingRequest, e: Entry, reason: string): Rewrite {
    this.record(req, e.credential.spec.name, 'refused', reason);
    return { ok: false, name: e.credential.spec.name, reason };
  }

  /** Each token's placeholder replaced by its value, in the target and the headers (also inside Basic authorization). */
  private swapTokens(req: OutgoingRequest, used: readonly Entry[]): Rewrite {
    const swap = (s: string): string => used.reduce((acc, e) => acc.replaceAll(e.credential.placeholder, e.credential.value), s);
    const headers = req.headers.map(([n, v]): [string, string] => {
      const basic = BASIC.exec(v);
      const decoded = decodeBasic(v);
      return [n, basic?.[1] !== undefined && decoded !== undefined ? basic[1] + Buffer.from(swap(decoded), 'latin1').toString('base64') : swap(v)];
    });
    for (const e of used) this.record(req, e.credential.spec.name, 'injected');
    return { ok: true, target: swap(req.target), headers: used.length === 0 ? headers : uncompressed(whole(headers)), injected: used.map((e) => e.credential.spec.name) };
  }

  /**
   * `text` (a response's reason phrase, a header's name or value) with
   * every real value replaced by its mask, also in any case of its letters:
   * a server may write header names in lower case (an ASGI application
   * must), and a GitHub token's letters without their case are enough to
   * find it offline (its last six characters are a checksum of the rest).
   */
  scrubText(text: string): string {
    const s = this.responseScrubber();
    const exact = Buffer.concat([...s.push(Buffer.from(text, 'latin1')), s.flush()]).toString('latin1');
    return this.anyCase.reduce((acc, { pattern, mask }) => acc.replace(pattern, () => mask), exact);
  }

  /**
   * The check on a plain HTTP response relayed as bytes: no compressed body, which the scrubber could not search
   * (compressed-guard.ts). Its reason quotes the codings the server named, which may echo a value: scrubbed.
   */
  responseGuard(): (chunk: Buffer) => string | undefined {
    const guard = compressedResponseGuard();
    return (chunk) => {
      const reason = guard(chunk);
      return reason === undefined ? undefined : this.scrubText(reason);
    };
  }

  /** A scrubber that puts the placeholders back where a response holds a real value. */
  responseScrubber(): Scrubber {
    return scrubber(this.entries.flatMap(({ credential }) => valuePairs(credential).flatMap((v) => replacementsFor(Buffer.from(v.value, 'latin1'), Buffer.from(v.placeholder.slice(0, v.value.length), 'latin1')))));
  }

  private record(req: Pick<OutgoingRequest, 'method' | 'host' | 'port' | 'target'>, name: string, kind: CredentialEvent['kind'], reason?: string): void {
    if (this.events.length >= MAX_CREDENTIAL_EVENTS) {
      this.omitted++;
      return;
    }
    const path = req.target.split('?')[0] ?? '';
    this.events.push({ time: new Date().toISOString(), name, kind, host: req.host, port: req.port, method: req.method, path: this.mask(path), ...(reason === undefined ? {} : { reason }) });
  }

  /** A path may carry a value or placeholder itself (/token/<value>): neither is recorded. */
  private mask(text: string): string {
    const pairs = this.entries.flatMap(({ credential: c }) => valuePairs(c).map((v) => ({ ...v, mask: `<${c.spec.name}>` })));
    return pairs.reduce((acc, v) => acc.replaceAll(v.value, v.mask).replaceAll(v.placeholder, v.mask), text);
  }
}

/** A response the proxy scrubs must arrive as text: no compression may hide a value from it. */
function uncompressed(headers: readonly [string, string][]): [string, string][] {
  return [...headers.filter(([n]) => n.toLowerCase() !== 'accept-encoding'), ['Accept-Encoding', 'identity']];
}

/**
 * A response the proxy scrubs must come whole: a server that echoes the
 * value and serves parts (Range) would give it to the command one part at
 * a time, none of which is the value the scrubber looks for. Without
 * Range (and If-Range, which only qualifies it) the server sends the whole.
 */
function whole(headers: readonly [string, string][]): [string, string][] {
  return headers.filter(([n]) => !['range', 'if-range'].includes(n.toLowerCase()));
}
