/**
 * The certificate authority of one run, made in memory when the run has
 * credentials: its private key is a non-extractable WebCrypto key, so it is
 * never written anywhere, not even by accident. The CA certificate carries
 * X.509 name constraints (critical) that permit only the credential hosts
 * (a host name covers its subdomains, an IP address itself); a kind of name
 * no credential uses is limited to a name that cannot exist (`invalid`,
 * 0.0.0.0/32). So even a leaked CA vouches for no other site, and it
 * expires a day after the run started.
 *
 * Certificates are made with @peculiar/x509 (on WebCrypto, Node 20's
 * `crypto.webcrypto`), whose dependency injection needs a Reflect metadata
 * polyfill: @abraham/reflection, the small one the library names. Both are
 * loaded only here, and this file only when a run has credentials.
 */
import '@abraham/reflection';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { webcrypto } from 'node:crypto';
import { ipVersion } from '../rules.js';

export const CA_LIFETIME_MS = 24 * 60 * 60 * 1000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Certificates are valid from a little before now: a clock a moment behind must not refuse them. */
const SKEW_MS = 5 * 60 * 1000;

export interface Leaf {
  cert: string;
  key: string;
}

export interface RunCa {
  /** The CA certificate (PEM): the sandbox trusts it through the run's bundle file. */
  certPem: string;
  /** A certificate for `host` (a name or an IP address), signed by the CA; made once per host. */
  leafFor(host: string): Promise<Leaf>;
}

/** Name constraints permitting `hosts` (lower-case names or IP addresses) and nothing else. */
function constraints(hosts: readonly string[]): x509.Extension {
  const names = hosts.filter((h) => ipVersion(h) === 0);
  const ips = hosts.filter((h) => ipVersion(h) !== 0).map((h) => `${h}/${ipVersion(h) === 4 ? 32 : 128}`);
  const subtree = (base: GeneralName): GeneralSubtree => new GeneralSubtree({ base });
  const permitted = [
    ...(names.length > 0 ? names : ['invalid']).map((dNSName) => subtree(new GeneralName({ dNSName }))),
    ...(ips.length > 0 ? ips : ['0.0.0.0/32']).map((iPAddress) => subtree(new GeneralName({ iPAddress }))),
  ];
  const nc = new NameConstraints({ permittedSubtrees: new GeneralSubtrees(permitted) });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(nc));
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}

/** A CA for the hosts the run's credentials may be sent to (their host parts: `api.github.com`, `127.0.0.1`). */
export async function createRunCa(hosts: readonly string[], now = Date.now()): Promise<RunCa> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const notBefore = new Date(now - SKEW_MS);
  const notAfter = new Date(now + CA_LIFETIME_MS);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=isolate run CA (one run; name-constrained)',
    keys: caKeys,
    signingAlgorithm: ALG,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      constraints([...new Set(hosts)]),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leaves = new Map<string, Promise<Leaf>>();
  const issue = async (host: string): Promise<Leaf> => {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      // No CN: verifiers would read a CN as a DNS name, and an IP address host would break the constraints.
      subject: 'O=isolate run',
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      notBefore,
      notAfter,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.SubjectAlternativeNameExtension([{ type: ipVersion(host) === 0 ? 'dns' : 'ip', value: host }]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    return { cert: cert.toString('pem'), key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
  };
  return {
    certPem: ca.toString('pem'),
    leafFor(host) {
      let leaf = leaves.get(host);
      if (leaf === undefined) {
        leaf = issue(host);
        leaves.set(host, leaf);
      }
      return leaf;
    },
  };
}
