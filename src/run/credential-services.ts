/**
 * What a run with credentials adds to its proxy: the vault of values
 * (network/credentials/vault.ts), the run's CA and the TLS terminator for
 * the credential hosts, and the trust bundle the sandbox reads (the
 * system's roots and the run's CA certificate) in the proxy's directory,
 * which the sandbox sees read-only. The CA's key stays in memory; the
 * bundle holds certificates only. Loaded only when a run has credentials.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { CA_BUNDLE_NAME } from '../backends/forwarder.js';
import type { Service } from '../backends/types.js';
import { IsolateError, errnoCode } from '../errors.js';
import type { RunCredentials } from '../network/credentials/spec.js';
import type { TlsTerminator } from '../network/credentials/terminate.js';
import type { CredentialVault } from '../network/credentials/vault.js';

/** Where distributions keep the system's roots as one PEM file (Debian/Ubuntu, Fedora/RHEL, Alpine/Arch, openSUSE). */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem', '/etc/ssl/ca-bundle.pem'];

/** The system's roots: its bundle file, or node's own copy of Mozilla's roots when there is none. */
export function systemRoots(): string {
  for (const file of SYSTEM_BUNDLES) {
    try {
      const text = readFileSync(file, 'utf8');
      if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
    } catch {
      // not on this system
    }
  }
  return rootCertificates.join('\n');
}

export interface CredentialServices {
  vault: CredentialVault;
  terminator: TlsTerminator;
  /** The PEM the sandbox trusts: the system's roots and the run's CA. */
  bundle: string;
}

export async function startCredentials(services: readonly Service[], credentials: RunCredentials | undefined): Promise<CredentialServices | undefined> {
  if (credentials === undefined || credentials.loaded.length === 0) return undefined;
  if (services.length === 0) {
    throw new IsolateError('E_CREDENTIAL', 'credentials need the filtered network, and this plan starts no proxy; the command was not run', { fix: 'set network.mode: filtered' });
  }
  const [{ CredentialVault }, { createRunCa }, { TlsTerminator }] = await Promise.all([
    import('../network/credentials/vault.js'),
    import('../network/credentials/ca.js'),
    import('../network/credentials/terminate.js'),
  ]);
  const vault = new CredentialVault(credentials.loaded);
  const ca = await createRunCa(vault.hostNames());
  // Each named host's certificate is made while the sandbox starts, not at the command's first connection (a wildcard's hosts are not known yet).
  for (const host of vault.hostNames()) ca.leafFor(host).catch(() => undefined);
  const roots = systemRoots();
  const trust = [roots, ...(credentials.upstreamCa === undefined ? [] : [credentials.upstreamCa])];
  return { vault, terminator: new TlsTerminator(vault, ca, trust), bundle: `${roots.trimEnd()}\n${ca.certPem}` };
}

/** Put the trust bundle in the proxy's directory (created by run/ just before). */
export function writeBundle(socketDir: string, bundle: string): void {
  try {
    writeFileSync(`${socketDir}/${CA_BUNDLE_NAME}`, bundle, { mode: 0o644, flag: 'wx' });
  } catch (e: unknown) {
    throw new IsolateError('E_NETWORK_PROXY', `cannot write the run's certificate bundle in ${socketDir}: ${errnoCode(e) ?? String(e)}`, { cause: e });
  }
}
