/**
 * Addresses the filtering proxy refuses unless a rule names host and port
 * explicitly: loopback, private, link-local, metadata and other special
 * ranges, and this machine's own interface addresses, in IPv4, IPv6 and
 * IPv4-mapped IPv6 form.
 */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isRestrictedAddress } from '../../src/network/address.js';

/** This machine's addresses that no special range covers: an allowed name resolving to one reached the host's own services. */
const ownPublic = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a !== undefined && !a.internal && !/^(fe80|fd|fc)/i.test(a.address) && !/^(10|127|192\.168|172\.(1[6-9]|2\d|3[01]))\./.test(a.address))
  .map((a) => a?.address ?? '');
if (ownPublic.length === 0) console.warn('the own-interface address case is skipped: this machine has no interface address outside the special ranges');

describe('isRestrictedAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback /8'],
    ['127.255.255.254', 'loopback /8'],
    ['10.0.0.1', 'private 10/8'],
    ['10.255.255.255', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12, last'],
    ['192.168.0.1', 'private 192.168/16'],
    ['192.168.255.255', 'private 192.168/16'],
    ['169.254.169.254', 'link-local, cloud metadata'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT, last'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', '"this network"'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.192', 'Oracle metadata'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'IPv6 loopback'],
    ['0:0:0:0:0:0:0:1', 'IPv6 loopback, long form'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['FE80::abcd', 'IPv6 link-local, upper case'],
    ['fd00:ec2::254', 'AWS IPv6 metadata'],
    ['fc00::1', 'unique local'],
    ['fdff:ffff::1', 'unique local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::FFFF:127.0.0.1', 'IPv4-mapped loopback, upper case'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::ffff:7f00:0001', 'IPv4-mapped loopback, hex with zeros'],
    ['0:0:0:0:0:ffff:7f00:1', 'IPv4-mapped loopback, long hex form'],
    ['0:0:0:0:0:ffff:127.0.0.1', 'IPv4-mapped loopback, long form'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata, hex'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:192.168.1.1', 'IPv4-mapped private'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
  ])('%s is restricted (%s)', (address) => {
    expect(isRestrictedAddress(address)).toBe(true);
  });

  it.each([
    ['8.8.8.8', 'public DNS'],
    ['1.1.1.1', 'public DNS'],
    ['93.184.216.34', 'public web'],
    ['140.82.112.3', 'public web'],
    ['2606:4700::1111', 'public IPv6'],
    ['2001:4860:4860::8888', 'public IPv6'],
    ['172.32.0.1', 'just above 172.16/12'],
    ['172.15.255.255', 'just below 172.16/12'],
    ['192.169.0.1', 'just above 192.168/16'],
    ['100.128.0.1', 'just above 100.64/10'],
    ['100.63.255.255', 'just below 100.64/10'],
    ['11.0.0.1', 'just above 10/8'],
    ['126.255.255.255', 'just below 127/8'],
    ['128.0.0.1', 'just above 127/8'],
    ['169.253.255.255', 'just below 169.254/16'],
    ['223.255.255.255', 'just below multicast'],
    ['::ffff:8.8.8.8', 'IPv4-mapped public'],
    ['::ffff:808:808', 'IPv4-mapped public, hex'],
    ['fbff::1', 'just below fc00::/7'],
    ['fec0::1', 'above fe80::/10'],
  ])('%s is not restricted (%s)', (address) => {
    expect(isRestrictedAddress(address)).toBe(false);
  });

  it.runIf(ownPublic.length > 0)('this machine\'s own interface addresses are restricted, also IPv4-mapped', () => {
    for (const address of ownPublic) {
      expect(isRestrictedAddress(address), address).toBe(true);
      if (!address.includes(':')) expect(isRestrictedAddress(`::ffff:${address}`), address).toBe(true);
    }
  });

  it.each(['localhost', 'example.com', '', '999.1.1.1', '1.2.3', '::g', '[::1]', ' 127.0.0.1'])('%j (not an address) is restricted', (value) => {
    expect(isRestrictedAddress(value)).toBe(true);
  });
});
