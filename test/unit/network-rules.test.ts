/**
 * Domain rules of the filtered network mode: parsing patterns, matching a
 * host and port, and deciding (deny wins; nothing matching means denied).
 */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ALLOW_DEFAULT_PORTS, decide, ipVersion, isHostName, normalizeHost, parseRule, ruleMatches, type DomainRule, type RuleKind, type RuleSet } from '../../src/network/rules.js';

/** Parse a pattern that must be valid (an allow pattern unless said otherwise). */
function rule(pattern: string, kind: RuleKind = 'allow'): DomainRule {
  const r = parseRule(pattern, kind);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(pattern)} to parse, got: ${r.message}`);
  return r.rule;
}

function rules(allow: string[], deny: string[] = []): RuleSet {
  return { allow: allow.map((p) => rule(p)), deny: deny.map((p) => rule(p, 'deny')) };
}

describe('parseRule', () => {
  it.each([
    // pattern, host, wildcard, ports, explicit
    ['example.com', 'example.com', false, [80, 443], false],
    ['Example.COM', 'example.com', false, [80, 443], false],
    ['example.com.', 'example.com', false, [80, 443], false],
    ['  example.com  ', 'example.com', false, [80, 443], false],
    ['example.com:8080', 'example.com', false, [8080], true],
    ['example.com:1', 'example.com', false, [1], true],
    ['example.com:65535', 'example.com', false, [65535], true],
    ['example.com:*', 'example.com', false, 'any', false],
    ['localhost', 'localhost', false, [80, 443], false],
    ['localhost:8080', 'localhost', false, [8080], true],
    ['localhost:*', 'localhost', false, 'any', false],
    ['*.github.com', 'github.com', true, [80, 443], false],
    ['*.GitHub.com', 'github.com', true, [80, 443], false],
    ['*.github.com:443', 'github.com', true, [443], false],
    ['*.github.com:*', 'github.com', true, 'any', false],
    ['*.com', 'com', true, [80, 443], false],
    ['registry_1.internal', 'registry_1.internal', false, [80, 443], false],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', false, [80, 443], false],
    ['1.2.3.4', '1.2.3.4', false, [80, 443], false],
    ['1.2.3.4:22', '1.2.3.4', false, [22], true],
    ['127.0.0.1:*', '127.0.0.1', false, 'any', false],
    ['[::1]', '::1', false, [80, 443], false],
    ['[::1]:443', '::1', false, [443], true],
    ['[::1]:*', '::1', false, 'any', false],
    ['[2001:DB8::1]:8443', '2001:db8::1', false, [8443], true],
    ['[::ffff:127.0.0.1]:80', '::ffff:7f00:1', false, [80], true], // IPv6 hosts are kept in canonical (WHATWG URL) form
  ] as const)('accepts %j', (pattern, host, wildcard, ports, explicit) => {
    const r = parseRule(pattern, 'allow');
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    if (!r.ok) return;
    expect(r.rule).toEqual({ pattern, host, wildcard, ports, explicit });
  });

  it('an allow pattern without a port covers ports 80 and 443', () => {
    expect(ALLOW_DEFAULT_PORTS).toEqual([80, 443]);
    expect(rule('example.com').ports).toEqual([80, 443]);
    expect(rule('*.example.com').ports).toEqual([80, 443]);
    expect(rule('1.2.3.4').ports).toEqual([80, 443]);
    expect(rule('[2001:db8::1]').ports).toEqual([80, 443]);
  });

  it('a deny pattern without a port covers every port; with one, that port', () => {
    for (const p of ['example.com', 'Example.COM.', '*.example.com', '1.2.3.4', '[2001:db8::1]', 'localhost']) {
      expect(rule(p, 'deny').ports, p).toBe('any');
      expect(rule(p, 'deny').explicit, p).toBe(false);
    }
    expect(rule('example.com:8080', 'deny').ports).toEqual([8080]);
    expect(rule('[::1]:443', 'deny').ports).toEqual([443]);
    expect(rule('example.com:*', 'deny').ports).toBe('any');
    // Everything else about a pattern is the same in both lists.
    const { ports: _a, ...allow } = rule('*.Example.com.');
    const { ports: _d, ...deny } = rule('*.Example.com.', 'deny');
    expect(deny).toEqual(allow);
  });

  it('is explicit only for one exact host with one numeric port', () => {
    expect(rule('localhost:8080').explicit).toBe(true);
    expect(rule('10.0.0.5:5432').explicit).toBe(true);
    expect(rule('[fd00::1]:53').explicit).toBe(true);
    expect(rule('localhost').explicit).toBe(false); // two default ports
    expect(rule('localhost:*').explicit).toBe(false); // any port
    expect(rule('*.internal:8080').explicit).toBe(false); // a wildcard host
    expect(rule('*.internal:*').explicit).toBe(false);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['*', /\*/],
    ['*.', /./],
    ['a*b', /\*/],
    ['a*b.com', /\*/],
    ['foo.*.com', /\*/],
    ['*.*.com', /\*/],
    ['**.com', /\*/],
    ['*example.com', /\*/],
    ['example.*', /\*/],
    ['*.1.2.3.4', /IP/],
    ['*.1.2.3.4:80', /IP/],
    ['example.com:0', /port/],
    ['example.com:65536', /port/],
    ['example.com:99999', /port/],
    ['example.com:123456', /port/],
    ['example.com:abc', /port/],
    ['example.com:-1', /port/],
    ['example.com:8o', /port/],
    ['example.com:', /port/],
    ['example.com:+80', /port/],
    ['example.com: 80', /port/],
    ['[::1]:0', /port/],
    ['[::1]:65536', /port/],
    ['::1', /bracket/],
    ['::1:443', /bracket/],
    ['2001:db8::1', /bracket/],
    ['fe80::1:80', /bracket/],
    ['[::1', /\[/],
    ['[::1]443', /after/],
    ['[::1]x:443', /after/],
    ['[example.com]:443', /IPv6/],
    ['[1.2.3.4]', /IPv6/],
    ['[]', /IPv6/],
    [':*', /host name/],
    [':443', /host name/],
    ['-bad.example.com', /host name/],
    ['bad-.example.com', /host name/],
    ['exa mple.com', /host name/],
    ['exa/mple.com', /host name/],
    ['http://example.com', /./],
    ['example..com', /host name/],
    [`${'a'.repeat(64)}.com`, /host name/],
  ])('rejects %j', (pattern, message) => {
    for (const kind of ['allow', 'deny'] as const) {
      const r = parseRule(pattern, kind);
      expect(r.ok, `${JSON.stringify(pattern)} should be rejected as ${kind} pattern`).toBe(false);
      if (!r.ok) expect(r.message).toMatch(message);
    }
  });

  it('keeps the pattern as written for messages and reports', () => {
    expect(rule('*.GitHub.com.:443').pattern).toBe('*.GitHub.com.:443');
    expect(rule('*.GitHub.com.:443').host).toBe('github.com');
  });
});

describe('normalizeHost and isHostName', () => {
  it('lower-cases and drops one trailing dot', () => {
    expect(normalizeHost('API.GitHub.COM.')).toBe('api.github.com');
    expect(normalizeHost('example.com')).toBe('example.com');
  });

  it('accepts host names and rejects other strings', () => {
    for (const h of ['a', 'localhost', 'a.b.c', 'a-b.c_d', '1.2.3.4', 'x'.repeat(63)]) expect(isHostName(h), h).toBe(true);
    for (const h of ['', 'a..b', '-a', 'a-', 'a b', 'x'.repeat(64), `${'a.'.repeat(127)}ab`]) expect(isHostName(h), h).toBe(false);
  });
});

describe('ruleMatches', () => {
  it('matches an exact host case-insensitively and without a trailing dot', () => {
    const r = rule('example.com');
    expect(ruleMatches(r, 'example.com', 443)).toBe(true);
    expect(ruleMatches(r, 'EXAMPLE.com', 443)).toBe(true);
    expect(ruleMatches(r, 'example.com.', 80)).toBe(true);
    expect(ruleMatches(r, 'Example.Com.', 80)).toBe(true);
    expect(ruleMatches(rule('EXAMPLE.COM.'), 'example.com', 80)).toBe(true);
  });

  it('an exact host does not cover subdomains or look-alikes', () => {
    const r = rule('example.com');
    expect(ruleMatches(r, 'www.example.com', 443)).toBe(false);
    expect(ruleMatches(r, 'example.com.evil.net', 443)).toBe(false);
    expect(ruleMatches(r, 'notexample.com', 443)).toBe(false);
    expect(ruleMatches(r, 'example.co', 443)).toBe(false);
  });

  it('*.github.com matches subdomains only', () => {
    const r = rule('*.github.com');
    expect(ruleMatches(r, 'api.github.com', 443)).toBe(true);
    expect(ruleMatches(r, 'API.GitHub.com.', 443)).toBe(true);
    expect(ruleMatches(r, 'a.b.github.com', 80)).toBe(true);
    expect(ruleMatches(r, 'github.com', 443)).toBe(false);
    expect(ruleMatches(r, 'evilgithub.com', 443)).toBe(false);
    expect(ruleMatches(r, 'api.evilgithub.com', 443)).toBe(false);
    expect(ruleMatches(r, 'github.com.evil.net', 443)).toBe(false);
  });

  it('an allow pattern without a port covers 80 and 443 only', () => {
    const r = rule('example.com');
    expect(ruleMatches(r, 'example.com', 80)).toBe(true);
    expect(ruleMatches(r, 'example.com', 443)).toBe(true);
    for (const port of [22, 8080, 8443, 1, 65535]) expect(ruleMatches(r, 'example.com', port), String(port)).toBe(false);
  });

  it('a deny pattern without a port covers every port of its host, and no other host', () => {
    for (const [pattern, host, other] of [
      ['example.com', 'EXAMPLE.com.', 'www.example.com'],
      ['*.example.com', 'api.example.com', 'example.com'],
      ['10.0.0.5', '10.0.0.5', '10.0.0.50'],
      ['[2001:db8::1]', '2001:DB8:0::1', '2001:db8::2'],
    ] as const) {
      const r = rule(pattern, 'deny');
      for (const port of [1, 22, 80, 443, 8080, 8765, 65535]) {
        expect(ruleMatches(r, host, port), `${pattern} ${port}`).toBe(true);
        expect(ruleMatches(r, other, port), `${pattern} vs ${other} ${port}`).toBe(false);
      }
    }
  });

  it('with a port, covers that port only; with :*, every port', () => {
    const r = rule('example.com:8080');
    expect(ruleMatches(r, 'example.com', 8080)).toBe(true);
    expect(ruleMatches(r, 'example.com', 80)).toBe(false);
    expect(ruleMatches(r, 'example.com', 443)).toBe(false);
    const any = rule('example.com:*');
    for (const port of [1, 22, 80, 443, 8080, 65535]) expect(ruleMatches(any, 'example.com', port), String(port)).toBe(true);
    expect(ruleMatches(any, 'other.com', 80)).toBe(false);
  });

  it('matches IP literals', () => {
    expect(ruleMatches(rule('10.0.0.5:5432'), '10.0.0.5', 5432)).toBe(true);
    expect(ruleMatches(rule('10.0.0.5:5432'), '10.0.0.50', 5432)).toBe(false);
    expect(ruleMatches(rule('[::1]:443'), '::1', 443)).toBe(true);
    expect(ruleMatches(rule('[2001:DB8::1]'), '2001:db8::1', 443)).toBe(true);
  });
});

describe('decide', () => {
  it('allows what an allow rule matches, naming the rule', () => {
    const d = decide(rules(['example.com', '*.npmjs.org']), 'registry.npmjs.org', 443);
    expect(d.allowed).toBe(true);
    expect(d.rule?.pattern).toBe('*.npmjs.org');
    expect(d.reason).toContain('*.npmjs.org');
  });

  it('denies when nothing matches, with rule null', () => {
    const d = decide(rules(['example.com']), 'other.com', 443);
    expect(d.allowed).toBe(false);
    expect(d.rule).toBeNull();
    expect(d.reason).toMatch(/no allow rule matches/);
    expect(decide(rules(['example.com']), 'example.com', 8080)).toMatchObject({ allowed: false, rule: null });
    expect(decide(rules([]), 'example.com', 443)).toMatchObject({ allowed: false, rule: null });
  });

  it('an allow rule naming the host and port exactly decides over a broader one given before it (loopback needs it)', () => {
    for (const allow of [['localhost', 'localhost:443'], ['localhost:443', 'localhost'], ['*.example.com', 'api.example.com:443']]) {
      const host = allow[1]?.split(':')[0]?.replace('*.', 'api.') ?? '';
      expect(decide(rules(allow), host, 443), allow.join(' ')).toMatchObject({ allowed: true, rule: { explicit: true } });
    }
    expect(decide(rules(['localhost', 'localhost:8080']), 'localhost', 80)).toMatchObject({ allowed: true, rule: { pattern: 'localhost', explicit: false } });
  });

  it('deny wins over allow, in whatever order they are given', () => {
    const set = rules(['*.example.com', 'bad.example.com:*'], ['bad.example.com']);
    const bad = decide(set, 'bad.example.com', 443);
    expect(bad.allowed).toBe(false);
    expect(bad.rule?.pattern).toBe('bad.example.com');
    expect(bad.reason).toContain('denied by rule "bad.example.com"');
    // Control: the neighbour is allowed.
    expect(decide(set, 'good.example.com', 443)).toMatchObject({ allowed: true, rule: { pattern: '*.example.com' } });
  });

  it('a deny pattern without a port beats an allow pattern naming another port of the host', () => {
    // --allow-domain localhost:8765 --deny-domain localhost: the user denied the host, not its web ports.
    for (const [allow, deny, host] of [
      ['localhost:8765', 'localhost', 'localhost'],
      ['bad.example.com:*', 'bad.example.com', 'bad.example.com'],
      ['api.example.com:8443', '*.example.com', 'api.example.com'],
      ['127.0.0.1:8765', '127.0.0.1', '127.0.0.1'],
      ['[::1]:8765', '[::1]', '::1'],
    ] as const) {
      const port = allow.endsWith(':*') ? 8080 : Number(allow.slice(allow.lastIndexOf(':') + 1));
      // Control: without the deny pattern the allow pattern lets it through.
      expect(decide(rules([allow]), host, port), allow).toMatchObject({ allowed: true, rule: { pattern: allow } });
      expect(decide(rules([allow], [deny]), host, port), `${allow} -${deny}`).toMatchObject({ allowed: false, rule: { pattern: deny }, reason: `denied by rule "${deny}"` });
    }
  });

  it('a deny pattern with a port denies that port only', () => {
    const set = rules(['bad.example.com:*'], ['bad.example.com:443']);
    expect(decide(set, 'bad.example.com', 443)).toMatchObject({ allowed: false, rule: { pattern: 'bad.example.com:443' } });
    expect(decide(set, 'bad.example.com', 8080)).toMatchObject({ allowed: true, rule: { pattern: 'bad.example.com:*' } });
  });

  it('an exact allow does not beat a wildcard deny', () => {
    const set = rules(['api.example.com:*'], ['*.example.com:*']);
    expect(decide(set, 'api.example.com', 443)).toMatchObject({ allowed: false, rule: { pattern: '*.example.com:*' } });
    expect(decide(rules(['api.example.com:*']), 'api.example.com', 443).allowed).toBe(true);
  });

  it('a deny rule on its own denies, naming the rule', () => {
    expect(decide(rules([], ['example.com']), 'example.com', 443)).toMatchObject({ allowed: false, rule: { pattern: 'example.com' } });
  });

  it('picks the first matching allow rule', () => {
    const d = decide(rules(['api.example.com', '*.example.com']), 'api.example.com', 443);
    expect(d.rule?.pattern).toBe('api.example.com');
  });
});

describe('ipVersion', () => {
  it.each([
    '127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.', ' 1.2.3.4', '1.2.3.4:80',
    '::', '::1', '2001:db8::1', 'fe80::1%eth0', '::ffff:1.2.3.4', '::ffff:0a00:0001', '[::1]', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', ':::',
    'example.com', 'localhost', '', 'a\u0000b', '\u0661.2.3.4', '1.2.3.4\u0000',
  ])('%j: the same answer as node:net isIP', (s) => {
    expect(ipVersion(s)).toBe(isIP(s));
  });
});
