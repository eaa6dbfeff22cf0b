import { describe, expect, it } from 'vitest';
import { isLoopback, parseListen } from '../../src/network/proxy-server.js';
import { IsolateError } from '../../src/errors.js';

describe('parseListen', () => {
  it('reads host:port, [v6]:port and unix socket paths', () => {
    expect(parseListen('127.0.0.1:3128')).toEqual({ host: '127.0.0.1', port: 3128 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('/run/p.sock')).toEqual({ path: '/run/p.sock' });
    expect(parseListen('./p.sock')).toEqual({ path: './p.sock' });
  });

  it('refuses names, missing or out-of-range ports, and bare IPv6', () => {
    for (const bad of ['localhost:3128', '127.0.0.1', '127.0.0.1:65536', '::1:3128', '127.0.0.1:-1', ':3128', '']) {
      expect(() => parseListen(bad), bad).toThrow(IsolateError);
    }
  });
});

describe('isLoopback', () => {
  it('is 127.0.0.0/8 and ::1 only', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.9.9.9')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '::ffff:127.0.0.1', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });
});
