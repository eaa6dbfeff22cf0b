/**
 * Addresses the proxy refuses unless a rule names the host and port
 * explicitly: loopback, link-local, private and shared ranges, cloud metadata
 * endpoints, unspecified, multicast and reserved addresses, and the
 * addresses of this machine's own interfaces (a service listening on all
 * of them answers at a public one too), in IPv4, IPv6 and IPv4-mapped IPv6
 * form.
 */
import { BlockList } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ipVersion } from './rules.js';

let list: BlockList | undefined;

function blockList(): BlockList {
  if (list !== undefined) return list;
  const b = new BlockList();
  const v4: [string, number][] = [
    ['0.0.0.0', 8], // "this network", unspecified
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments (includes 192.0.0.192 Oracle metadata)
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ];
  for (const [net, prefix] of v4) b.addSubnet(net, prefix, 'ipv4');
  const v6: [string, number][] = [
    ['::', 128], // unspecified
    ['::1', 128], // loopback
    ['fc00::', 7], // unique local, including fd00:ec2::254 (AWS metadata)
    ['fe80::', 10], // link-local
    ['ff00::', 8], // multicast
    ['64:ff9b:1::', 48], // local-use NAT64
    ['64:ff9b::', 96], // well-known NAT64: 64:ff9b::a9fe:a9fe is 169.254.169.254 behind DNS64
  ];
  for (const [net, prefix] of v6) b.addSubnet(net, prefix, 'ipv6');
  list = b;
  return b;
}

/** IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms are judged as IPv4. */
function embeddedV4(address: string): string | undefined {
  const m = /^(?:0{0,4}:){0,5}(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m?.[1] !== undefined && ipVersion(m[1]) === 4) return m[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] !== undefined && hex[2] !== undefined) {
    const hi = Number.parseInt(hex[1], 16);
    const lo = Number.parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** This machine's interface addresses now (interfaces come and go while a server runs): read once per decision, for each address it checks. */
export function ownAddresses(): BlockList {
  const b = new BlockList();
  for (const a of Object.values(networkInterfaces()).flat()) {
    if (a !== undefined) b.addAddress(a.address.replace(/%.*$/, ''), a.family === 'IPv6' ? 'ipv6' : 'ipv4');
  }
  return b;
}

export function isRestrictedAddress(address: string, own: BlockList = ownAddresses()): boolean {
  const family = ipVersion(address);
  if (family === 0) return true; // not an address: refuse
  const v4 = family === 6 ? embeddedV4(address) : address;
  const [plain, type] = v4 === undefined ? [address, 'ipv6' as const] : [v4, 'ipv4' as const];
  return blockList().check(plain, type) || own.check(plain, type);
}
