/**
 * A credential as the policy names it: which variable the command sees,
 * where isolate reads the real value, the hosts it may be sent to, and how
 * long. Never a value: the value is read by run/credential-sources.ts and
 * lives only in the proxy's vault (vault.ts).
 */

export type CredentialSource =
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string }
  | { kind: 'command'; argv: string[] };

export interface CredentialSpec {
  /** The variable the command receives, holding the placeholder. */
  name: string;
  source: CredentialSource;
  /** Host patterns, as in network.allow: the only hosts the real value is sent to. */
  hosts: string[];
  /** After this long from the start of the run, the proxy stops adding the value (undefined: the whole run). */
  ttlMs: number | undefined;
  /** Where it was defined, for messages: `/p/web.yaml: credentials[0]` or `--credential`. */
  from: string;
}

/** A credential once its value has been read: the real value stays in isolate's memory. */
export interface LoadedCredential {
  spec: CredentialSpec;
  value: string;
  placeholder: string;
}

/** A run's credentials as run/ hands them to the proxy: the values, and the PEM certificates network.upstreamCa adds to the system's roots. */
export interface RunCredentials {
  loaded: readonly LoadedCredential[];
  upstreamCa?: string;
}

/** What the audit log and the run report keep of a credential: never a value. */
export interface CredentialEvent {
  time: string;
  name: string;
  kind: 'injected' | 'refused';
  host: string;
  port: number;
  method: string;
  /** The request path without its query. */
  path: string;
  /** refused: why (another host, an expired ttl). */
  reason?: string;
}

/** A short description of a source for explain and the report: its kind and what it names, never a value. */
export function describeSource(source: CredentialSource): string {
  if (source.kind === 'env') return `env ${source.name}`;
  if (source.kind === 'file') return `file ${source.path}`;
  return `command ${source.argv.join(' ')}`;
}
