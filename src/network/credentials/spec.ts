/**
 * A credential as the policy names it: which variable the command sees,
 * where isolate reads the real value, the hosts it may be sent to, and how
 * long. Never a value: the value is read by run/credential-sources.ts and
 * lives only in the proxy's vault (vault.ts).
 */
import type { AwsKeys } from './sigv4.js';

/** token: one value that travels in requests; aws: an access key id, secret key and optional session token that sign them (SigV4). */
export type CredentialKind = 'token' | 'aws';

export type CredentialSource =
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string }
  | { kind: 'command'; argv: string[] };

export interface CredentialSpec {
  /** The variable the command receives, holding the placeholder; for kind aws, the prefix of its three variables (AWS: AWS_ACCESS_KEY_ID, ...). */
  name: string;
  /** Absent: token. */
  kind?: CredentialKind;
  source: CredentialSource;
  /** Host patterns, as in network.allow: the only hosts the real value is sent to. */
  hosts: string[];
  /** After this long from the start of the run, the proxy stops adding the value (undefined: the whole run). */
  ttlMs: number | undefined;
  /** Where it was defined, for messages: `/p/web.yaml: credentials[0]` or `--credential`. */
  from: string;
}

/** An aws credential's keys: the real ones, and the placeholders the command signs with. */
export interface AwsSigning {
  real: AwsKeys;
  placeholder: AwsKeys;
}

/** A credential once its value has been read: the real value stays in isolate's memory. */
export interface LoadedCredential {
  spec: CredentialSpec;
  /** The value that travels: the token, or an aws credential's access key id. */
  value: string;
  placeholder: string;
  /** Kind aws: the keys the proxy checks a signature with and signs again with. */
  aws?: AwsSigning;
}

/** A value and the placeholder that stands for it. */
export interface ValuePair {
  value: string;
  placeholder: string;
}

/** Every value of a credential with its placeholder: the token, or the access key id, secret key and session token. */
export function valuePairs(c: LoadedCredential): ValuePair[] {
  if (c.aws === undefined) return [{ value: c.value, placeholder: c.placeholder }];
  const { real, placeholder } = c.aws;
  const pairs = [
    { value: real.accessKeyId, placeholder: placeholder.accessKeyId },
    { value: real.secretAccessKey, placeholder: placeholder.secretAccessKey },
  ];
  return real.sessionToken === undefined || placeholder.sessionToken === undefined ? pairs : [...pairs, { value: real.sessionToken, placeholder: placeholder.sessionToken }];
}

/** The variables of an aws credential named `prefix` (AWS: the ones AWS tools read), in the order of AwsKeys. */
export function awsVariableNames(prefix: string): { accessKeyId: string; secretAccessKey: string; sessionToken: string } {
  return { accessKeyId: `${prefix}_ACCESS_KEY_ID`, secretAccessKey: `${prefix}_SECRET_ACCESS_KEY`, sessionToken: `${prefix}_SESSION_TOKEN` };
}

/** The variables the command gets for a credential. */
export function variableNames(spec: { name: string; kind?: CredentialKind | undefined }): string[] {
  return spec.kind === 'aws' ? Object.values(awsVariableNames(spec.name)) : [spec.name];
}

/** A credential's variables as the command sees them; undefined: unset (an aws credential without a session token). */
export function credentialVariables(c: LoadedCredential): { name: string; placeholder: string | undefined }[] {
  if (c.aws === undefined) return [{ name: c.spec.name, placeholder: c.placeholder }];
  const names = awsVariableNames(c.spec.name);
  const p = c.aws.placeholder;
  return [
    { name: names.accessKeyId, placeholder: p.accessKeyId },
    { name: names.secretAccessKey, placeholder: p.secretAccessKey },
    { name: names.sessionToken, placeholder: p.sessionToken },
  ];
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
export function describeSource({ source, kind }: Pick<CredentialSpec, 'source' | 'kind'>): string {
  if (source.kind === 'env') return `env ${kind === 'aws' ? Object.values(awsVariableNames(source.name)).join(', ') : source.name}`;
  if (source.kind === 'file') return `file ${source.path}`;
  return `command ${source.argv.join(' ')}`;
}
