/**
 * The run report's (and so the audit log's) record of a run's credentials:
 * which were defined (name, source kind, hosts, ttl), every request the
 * proxy added a value to, and every placeholder it refused (credential
 * misuse). Names, hosts, methods, paths without query and times: never a
 * value or a placeholder.
 */
import type { CredentialEvent } from '../network/credentials/spec.js';
import type { Policy } from '../profile/types.js';
import type { ExecuteResult } from '../run/execute.js';

export interface CredentialsReport {
  defined: { name: string; kind?: 'aws'; source: 'env' | 'file' | 'command'; hosts: string[]; ttlMs: number | null }[];
  /** What the proxy did with them, the first 1000. */
  events: CredentialEvent[];
  /** Refusals among `events`: a placeholder sent to another host, or after its ttl. */
  misuse: number;
  /** Events after the first 1000, only counted. */
  omitted?: number;
}

export function credentialsReport(policy: Policy, result: ExecuteResult | undefined): { credentials?: CredentialsReport } {
  const specs = policy.credentials ?? [];
  if (specs.length === 0) return {};
  const events = result?.credentialEvents ?? [];
  return {
    credentials: {
      defined: specs.map((c) => ({ name: c.name, ...(c.kind === 'aws' ? { kind: c.kind } : {}), source: c.source.kind, hosts: c.hosts, ttlMs: c.ttlMs ?? null })),
      events,
      misuse: events.filter((e) => e.kind === 'refused').length,
      ...(result?.credentialEventsOmitted === undefined ? {} : { omitted: result.credentialEventsOmitted }),
    },
  };
}
