/**
 * The keys of an aws credential, as its source gives them: the caller's
 * PREFIX_ACCESS_KEY_ID, PREFIX_SECRET_ACCESS_KEY and PREFIX_SESSION_TOKEN
 * (`from: { env: PREFIX }`), or the JSON that `aws configure
 * export-credentials --format process` prints (and a `credential_process`
 * program prints), from a file or a command.
 */
import * as z from 'zod';
import { awsVariableNames } from '../network/credentials/spec.js';
import type { AwsKeys } from '../network/credentials/sigv4.js';

/** The credential_process format: Version 1, the keys, an optional session token and expiry. */
const processJson = z.strictObject({
  Version: z.literal(1),
  AccessKeyId: z.string(),
  SecretAccessKey: z.string(),
  SessionToken: z.string().optional(),
  Expiration: z.string().optional(),
});

export const AWS_JSON_FIX = 'the source must print the JSON of `aws configure export-credentials --format process`: {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken": ...}';

type Parsed = { ok: true; keys: AwsKeys } | { ok: false; message: string };

/** The keys in `text`, or what is wrong with it (never a value). */
export function awsKeysFromJson(text: string): Parsed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, message: 'the output is not JSON' };
  }
  const r = processJson.safeParse(doc);
  if (!r.success) return { ok: false, message: `the JSON is not in the credential_process form (${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')})` };
  const { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: sessionToken } = r.data;
  return { ok: true, keys: sessionToken === undefined || sessionToken === '' ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken } };
}

/** The keys in the caller's PREFIX_* variables (the session token is optional); an unset variable reads as empty. */
export function awsKeysFromEnv(prefix: string, env: Readonly<Record<string, string | undefined>>): AwsKeys {
  const names = awsVariableNames(prefix);
  const sessionToken = env[names.sessionToken] ?? '';
  const keys = { accessKeyId: env[names.accessKeyId] ?? '', secretAccessKey: env[names.secretAccessKey] ?? '' };
  return sessionToken === '' ? keys : { ...keys, sessionToken };
}
