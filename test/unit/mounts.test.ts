import { describe, expect, it } from 'vitest';
import { depth, effectiveKind, governing, isVisible, isWithin, orderRules, writableRoots } from '../../src/backends/mounts.js';
import type { MountKind, MountRule } from '../../src/profile/types.js';

const rule = (kind: MountKind, path: string, type: MountRule['type'] = 'dir'): MountRule => ({ kind, path, requested: path, type });
const show = (rules: MountRule[]): string[] => rules.map((r) => `${r.kind} ${r.path}`);

describe('depth and isWithin', () => {
  it('depth counts path segments', () => {
    expect(depth('/')).toBe(0);
    expect(depth('/usr')).toBe(1);
    expect(depth('/home/user/project')).toBe(3);
  });

  it('isWithin compares whole segments', () => {
    expect(isWithin('/home/user', '/home/user')).toBe(true);
    expect(isWithin('/home/user/x', '/home/user')).toBe(true);
    expect(isWithin('/home/username', '/home/user')).toBe(false);
    expect(isWithin('/home', '/home/user')).toBe(false);
    expect(isWithin('/anything', '/')).toBe(true);
  });
});

describe('orderRules', () => {
  it('puts parents first, then weaker kinds before stronger, then sorts by path', () => {
    const rules = [
      rule('deny', '/home/user/.ssh'),
      rule('write', '/home/user/project'),
      rule('read', '/usr'),
      rule('tmpfs', '/home/user'),
      rule('deny', '/home/user/project'),
      rule('read', '/home/user/project'),
      rule('tmpfs', '/tmp'),
    ];
    expect(show(orderRules(rules))).toEqual([
      'tmpfs /tmp',
      'read /usr',
      'tmpfs /home/user',
      'read /home/user/project',
      'write /home/user/project',
      'deny /home/user/.ssh',
      'deny /home/user/project',
    ]);
  });

  it('sorts by path at the same depth and kind, and does not modify its input', () => {
    const rules = [rule('read', '/usr'), rule('read', '/etc'), rule('read', '/opt')];
    const copy = [...rules];
    expect(show(orderRules(rules))).toEqual(['read /etc', 'read /opt', 'read /usr']);
    expect(rules).toEqual(copy);
  });
});

describe('governing and effectiveKind', () => {
  const rules = [
    rule('tmpfs', '/home/user'),
    rule('read', '/usr'),
    rule('write', '/home/user/project'),
    rule('deny', '/home/user/project/secret'),
    rule('read', '/home/user/project/secret/public'),
  ];

  it('the most specific path wins', () => {
    expect(effectiveKind(rules, '/home/user/.bashrc')).toBe('tmpfs');
    expect(effectiveKind(rules, '/home/user/project/src/a.ts')).toBe('write');
    expect(effectiveKind(rules, '/home/user/project/secret/key')).toBe('deny');
    expect(effectiveKind(rules, '/home/user/project/secret/public/x')).toBe('read');
    expect(effectiveKind(rules, '/usr/bin/env')).toBe('read');
    expect(effectiveKind(rules, '/etc/passwd')).toBe('none');
    expect(effectiveKind(rules, '/home')).toBe('none');
  });

  it('returns the governing rule itself', () => {
    expect(governing(rules, '/home/user/project/x')).toBe(rules[2]);
    expect(governing(rules, '/var')).toBeUndefined();
  });

  it('does not let a sibling with a common prefix govern', () => {
    expect(effectiveKind(rules, '/home/user/project-other')).toBe('tmpfs');
    expect(effectiveKind(rules, '/usrlocal')).toBe('none');
  });

  it.each<[MountKind[], MountKind]>([
    [['deny', 'write', 'read', 'tmpfs'], 'deny'],
    [['tmpfs', 'read', 'write', 'deny'], 'deny'],
    [['read', 'write'], 'write'],
    [['write', 'read'], 'write'],
    [['tmpfs', 'read'], 'read'],
    [['read', 'tmpfs'], 'read'],
    [['tmpfs', 'write'], 'write'],
    [['deny', 'read'], 'deny'],
  ])('at the same path %j -> %s (order does not matter)', (kinds, expected) => {
    const same = kinds.map((k) => rule(k, '/srv/data'));
    expect(effectiveKind(same, '/srv/data')).toBe(expected);
    expect(effectiveKind(same, '/srv/data/inner')).toBe(expected);
    expect(governing(same, '/srv/data')?.kind).toBe(expected);
  });

  it('a deeper weak rule beats a shallower strong one', () => {
    const rules2 = [rule('deny', '/a'), rule('tmpfs', '/a/b')];
    expect(effectiveKind(rules2, '/a/b/c')).toBe('tmpfs');
    expect(effectiveKind(rules2, '/a/c')).toBe('deny');
  });

  it('a rule at / governs everything', () => {
    expect(effectiveKind([rule('read', '/')], '/etc/passwd')).toBe('read');
  });
});

describe('isVisible', () => {
  const rules = [
    rule('read', '/usr'),
    rule('tmpfs', '/tmp'),
    rule('write', '/home/user/project'),
    rule('deny', '/home/user/project/.env', 'file'),
  ];

  it('is true under read and write rules only', () => {
    expect(isVisible(rules, '/usr/bin/env')).toBe(true);
    expect(isVisible(rules, '/home/user/project/run.sh')).toBe(true);
    expect(isVisible(rules, '/tmp/x')).toBe(false);
    expect(isVisible(rules, '/home/user/project/.env')).toBe(false);
    expect(isVisible(rules, '/opt/tool')).toBe(false);
    expect(isVisible([], '/usr/bin/env')).toBe(false);
  });
});

describe('writableRoots', () => {
  it('lists write rules that govern their own path', () => {
    const rules = [
      rule('write', '/home/user/project'),
      rule('write', '/srv/out'),
      rule('deny', '/srv/out'),
      rule('read', '/data'),
      rule('write', '/home/user/project/build'),
    ];
    expect(writableRoots(rules)).toEqual(['/home/user/project', '/home/user/project/build']);
  });

  it('is empty without write rules', () => {
    expect(writableRoots([rule('read', '/usr'), rule('tmpfs', '/tmp')])).toEqual([]);
  });
});
