/** The checks of a relay (relay-filter.ts); the TLS server name gate is tested with real ClientHellos in credentials-tls. */
import { describe, expect, it } from 'vitest';
import { allChecks, gated } from '../../src/network/relay-filter.js';

describe('allChecks', () => {
  it('runs every check on each chunk and gives the first reason', () => {
    const calls: string[] = [];
    const check = (name: string, reason?: string) => (c: Buffer) => (calls.push(`${name}:${c.toString()}`), reason);
    expect(allChecks(check('a'), undefined, check('b', 'b says no'), check('c', 'c says no'))(Buffer.from('x'))).toBe('b says no');
    expect(calls).toEqual(['a:x', 'b:x', 'c:x']);
  });
});

describe('gated', () => {
  it('holds the bytes while the gate wants more, then sends them, or what the gate gives instead, and the rest straight on', () => {
    const sent: string[] = [];
    const feed = gated((d) => (d.length < 4 ? 'more' : { pass: Buffer.from(`<${d.toString()}>`) }), (c) => void sent.push(c.toString()), () => undefined);
    for (const c of ['ab', 'cd', 'ef']) feed(Buffer.from(c));
    expect(sent).toEqual(['<abcd>', 'ef']);
  });
});
