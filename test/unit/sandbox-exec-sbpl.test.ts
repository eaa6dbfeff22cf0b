/**
 * The SBPL profiles of the sandbox-exec backend, read back with an
 * s-expression parser of their own: well-formed, made only of the operations
 * and filters isolate means to emit, every parameter defined and used, and
 * no path of a policy anywhere in the text, whatever characters it holds.
 */
import { describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { ancestors, buildSbpl, exactPathsRegex, type Sbpl, type SbplInput } from '../../src/backends/sbpl.js';
import { setupOps } from '../../src/backends/setup-ops.js';
import { SAME_SANDBOX_LINES, SEATBELT_DEFAULT, describeHardening, hardeningText } from '../../src/backends/sbpl-hardening.js';
import { planSandboxExec } from '../../src/backends/sandbox-exec.js';
import type { CommandFact, HostFacts, ProtectFact } from '../../src/backends/types.js';
import { writableRoots } from '../../src/backends/mounts.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile } from '../../src/profile/load.js';
import type { MountRule, NetworkMode, Policy } from '../../src/profile/types.js';
import { MAC_CTX, MAC_VARS, macPolicy } from '../golden/synthetic-mac.js';

// ---- an s-expression reader for SBPL ---------------------------------------------

type SExpr = { t: 'sym'; v: string } | { t: 'str'; v: string } | { t: 'num'; v: number } | { t: 'list'; v: SExpr[] };

/** Parse the whole profile; throws on unbalanced parentheses, unterminated or odd strings, stray characters. */
function parseSbpl(text: string): SExpr[] {
  let i = 0;
  const skip = (): void => {
    while (i < text.length) {
      const c = text[i] as string;
      if (c === ';') {
        while (i < text.length && text[i] !== '\n') i++;
      } else if (/\s/.test(c)) i++;
      else break;
    }
  };
  const read = (): SExpr => {
    skip();
    const c = text[i];
    if (c === undefined) throw new Error('unexpected end of profile');
    if (c === '(') {
      i++;
      const items: SExpr[] = [];
      for (;;) {
        skip();
        if (i >= text.length) throw new Error('unbalanced: missing )');
        if (text[i] === ')') {
          i++;
          return { t: 'list', v: items };
        }
        items.push(read());
      }
    }
    if (c === ')') throw new Error(`unbalanced: stray ) at ${i}`);
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end === -1) throw new Error('unterminated string');
      const v = text.slice(i + 1, end);
      // isolate writes only plain constants: no escapes, no line breaks, nothing a reader could take differently.
      if (/[\\\n\r\t]/.test(v) || !/^[\x20-\x7e]*$/.test(v)) throw new Error(`odd string ${JSON.stringify(v)}`);
      i = end + 1;
      return { t: 'str', v };
    }
    const octal = /^#o([0-7]+)/.exec(text.slice(i));
    if (octal !== null) {
      i += octal[0].length;
      return { t: 'num', v: parseInt(octal[1] ?? '', 8) };
    }
    const m = /^[A-Za-z0-9*._:+-]+/.exec(text.slice(i));
    if (m === null) throw new Error(`unexpected character ${JSON.stringify(c)} at ${i}`);
    i += m[0].length;
    return /^[0-9]+$/.test(m[0]) ? { t: 'num', v: Number(m[0]) } : { t: 'sym', v: m[0] };
  };
  const forms: SExpr[] = [];
  for (;;) {
    skip();
    if (i >= text.length) return forms;
    forms.push(read());
  }
}

/** The operations isolate emits, and nothing else. */
const OPERATIONS = new Set([
  'default',
  'process-fork',
  'process-exec',
  'signal',
  'process-info*',
  'file-map-executable',
  'mach-host*',
  'ipc-posix-sem',
  'sysctl-read',
  'mach-lookup',
  'file-read*',
  'file-write*',
  'file-read-metadata',
  'file-test-existence',
  'file-write-data',
  'file-ioctl',
  'pseudo-tty',
  'network*',
  'network-outbound',
  'network-bind',
  'network-inbound',
  // syscalls.preset: default (sbpl-hardening.ts)
  'mach-priv-task-port',
  'mach-task-name',
  'file-write-setugid',
  'mach-priv-host-port',
  'mach-host-special-port-set',
  'system-kext*',
  'system-privilege',
  'sysctl-write',
  'iokit-open',
]);

/** The filters (and the two expressions, param and string-append) isolate emits. */
const FILTERS = new Set([
  'target',
  'sysctl-name',
  'sysctl-name-prefix',
  'global-name',
  'global-name-prefix',
  'literal',
  'subpath',
  'regex',
  'path-literal',
  'require-all',
  'require-any',
  'file-mode',
  'extension',
  'remote',
  'local',
  'param',
  'string-append',
]);

const PARAM_NAME = /^[A-Z][A-Z0-9_]*$/;

interface Checked {
  /** Parameter names referenced, in order. */
  refs: string[];
  /** String constants in the text. */
  strings: string[];
  /** [action, operations, first filter] of each rule, in order. */
  rules: { action: string; ops: string[]; filters: SExpr[] }[];
}

function head(e: SExpr): string | undefined {
  return e.t === 'list' && e.v[0]?.t === 'sym' ? e.v[0].v : undefined;
}

/** A string-valued expression: a constant, a parameter, or string-append of those. */
function checkStringExpr(e: SExpr, out: Checked): void {
  if (e.t === 'str') {
    out.strings.push(e.v);
    return;
  }
  const h = head(e);
  if (e.t === 'list' && h === 'param') {
    const arg = e.v[1];
    expect(e.v).toHaveLength(2);
    expect(arg?.t).toBe('str');
    const name = arg?.t === 'str' ? arg.v : '';
    expect(name).toMatch(PARAM_NAME);
    out.refs.push(name);
    return;
  }
  if (e.t === 'list' && h === 'string-append') {
    expect(e.v.length).toBeGreaterThan(2);
    for (const x of e.v.slice(1)) checkStringExpr(x, out);
    return;
  }
  throw new Error(`not a string expression: ${JSON.stringify(e)}`);
}

function checkFilter(e: SExpr, out: Checked): void {
  const h = head(e);
  if (e.t !== 'list' || h === undefined || !FILTERS.has(h)) throw new Error(`unknown filter ${JSON.stringify(e)}`);
  const args = e.v.slice(1);
  switch (h) {
    case 'target':
      expect(args).toEqual([{ t: 'sym', v: 'same-sandbox' }]);
      return;
    case 'sysctl-name':
    case 'sysctl-name-prefix':
    case 'global-name':
    case 'global-name-prefix':
    case 'extension':
      expect(args).toHaveLength(1);
      expect(args[0]?.t).toBe('str');
      if (args[0]?.t === 'str') out.strings.push(args[0].v);
      return;
    case 'literal':
    case 'subpath':
    case 'regex':
    case 'path-literal':
      expect(args).toHaveLength(1);
      checkStringExpr(args[0] as SExpr, out);
      return;
    case 'require-all':
    case 'require-any':
      expect(args.length).toBeGreaterThan(1);
      for (const a of args) checkFilter(a, out);
      return;
    case 'file-mode':
      expect(args).toHaveLength(1);
      expect(args[0]?.t).toBe('num');
      return;
    case 'remote':
    case 'local': {
      const kind = args[0];
      expect(kind?.t).toBe('sym');
      if (kind?.t === 'sym' && kind.v === 'tcp') {
        expect(h).toBe('remote');
        expect(args).toHaveLength(2);
        checkStringExpr(args[1] as SExpr, out);
      } else if (kind?.t === 'sym' && kind.v === 'unix-socket') {
        expect(args.length).toBeLessThanOrEqual(2);
        if (args[1] !== undefined) checkFilter(args[1], out);
      } else {
        throw new Error(`unknown address kind ${JSON.stringify(kind)}`);
      }
      return;
    }
    default:
      throw new Error(`${h} is an expression, not a filter`);
  }
}

/** Parse and check a profile: structure, whitelist, parameters. */
function checkProfile(sbpl: { text: string; params: { name: string; value: string }[] }): Checked {
  const forms = parseSbpl(sbpl.text);
  const out: Checked = { refs: [], strings: [], rules: [] };
  expect(forms[0]).toEqual({ t: 'list', v: [{ t: 'sym', v: 'version' }, { t: 'num', v: 1 }] });
  expect(forms[1]).toEqual({ t: 'list', v: [{ t: 'sym', v: 'deny' }, { t: 'sym', v: 'default' }] });
  for (const form of forms.slice(1)) {
    const action = head(form);
    if (form.t !== 'list' || (action !== 'allow' && action !== 'deny')) throw new Error(`unknown top-level form ${JSON.stringify(form)}`);
    const rest = form.v.slice(1);
    const ops: string[] = [];
    while (rest[0]?.t === 'sym') ops.push((rest.shift() as { v: string }).v);
    expect(ops.length, JSON.stringify(form)).toBeGreaterThan(0);
    for (const op of ops) expect(OPERATIONS.has(op), `operation ${op}`).toBe(true);
    if (ops.includes('default')) expect([action, ops, rest]).toEqual(['deny', ['default'], []]);
    for (const f of rest) checkFilter(f, out);
    out.rules.push({ action, ops, filters: rest });
  }
  const defined = sbpl.params.map((p) => p.name);
  expect(new Set(defined).size, 'parameter names are unique').toBe(defined.length);
  expect(new Set(out.refs), 'every parameter is used, every reference defined').toEqual(new Set(defined));
  for (const name of defined) expect(name).toMatch(PARAM_NAME);
  return out;
}

// ---- policies ----------------------------------------------------------------

const HOME = '/Users/alice';
const PROJECT = '/Users/alice/project';
const RUN_DIR = '/private/var/folders/ab/cd/T/isolate-run-1-aaaa';

function policyOf(mounts: MountRule[], mode: NetworkMode = 'none', protect: string[] = ['.git/hooks', '.bashrc']): Policy {
  return {
    profile: { name: 'test', sources: ['test'], description: 'test' },
    filesystem: { mounts, protect, skipped: [] },
    network: { mode, allow: mode === 'filtered' ? ['example.org'] : [], deny: [] },
    environment: { pass: ['PATH', 'HOME'], set: {}, secrets: [] },
    process: { cwd: PROJECT, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit' },
    syscalls: { preset: 'none', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: false, log: undefined, required: false },
  };
}

const EVERY_KIND: MountRule[] = [
  rule('tmpfs', '/private/tmp', 'dir', '/tmp'),
  rule('tmpfs', HOME),
  rule('read', '/usr'),
  rule('read', '/private/etc', 'dir', '/etc'),
  rule('read', `${HOME}/.nvm`),
  rule('read', `${HOME}/agent.sock`, 'other'),
  rule('write', PROJECT),
  rule('read', `${PROJECT}/vendor`),
  rule('write', `${PROJECT}/vendor/cache`),
  rule('deny', `${PROJECT}/.env`, 'file'),
  rule('deny', '/private/etc/ssh'),
  rule('write', `${PROJECT}/sock`, 'other'),
];

const FACTS: ProtectFact[] = [
  { path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] },
  { path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] },
];

/** The profile for `policy` with these protected names (the setup operations of setup-ops.ts for them). */
function sbplOf(policy: Policy, over: Partial<Omit<SbplInput, 'ops'>> & { protect?: ProtectFact[] } = {}): Sbpl {
  const { protect = FACTS, ...rest } = over;
  return buildSbpl(policy, { ops: setupOps(policy, { protect, kernelPaths: [] }), runDir: RUN_DIR, home: HOME, proxyPort: 3128, terminalIoctl: true, ...rest });
}

// Built-in profiles on the golden tests' synthetic Mac, through the real resolvePolicy.
function macProtect(policy: Policy): ProtectFact[] {
  return writableRoots(policy.filesystem.mounts).flatMap((root) =>
    policy.filesystem.protect.map((name) => ({ path: `${root}/${name}`, state: 'missing' as const, pins: name.includes('/') ? [`${root}/${name.split('/')[0]}`] : [] })),
  );
}

async function builtinProfiles(): Promise<{ name: string; sbpl: Sbpl }[]> {
  const out: { name: string; sbpl: Sbpl }[] = [];
  for (const name of BUILTIN_NAMES) {
    for (const net of ['none', 'host', 'filtered'] as const) {
      const merged = applyOverrides(await loadMergedProfile(name, MAC_CTX), net === 'filtered' ? { allowDomain: ['example.org'] } : { net }, MAC_CTX);
      const policy = macPolicy(merged);
      out.push({ name: `${name} --net ${net}`, sbpl: sbplOf(policy, { protect: macProtect(policy) }) });
    }
  }
  return out;
}

// ---- tests ---------------------------------------------------------------------

describe('every generated profile parses, and uses only known operations and filters', () => {
  it('the built-in profiles, in every network mode', async () => {
    const profiles = await builtinProfiles();
    expect(profiles).toHaveLength(9);
    for (const { name, sbpl } of profiles) {
      const checked = checkProfile(sbpl);
      expect(checked.rules.length, name).toBeGreaterThan(20);
      for (const s of checked.strings) expect(s, `${name}: a home path in the text`).not.toContain(MAC_VARS.HOME);
    }
  });

  it.each(['none', 'host', 'filtered'] as const)('a policy with every kind of rule, sockets, links and protected names (%s)', (mode) => {
    const checked = checkProfile(sbplOf(policyOf(EVERY_KIND, mode)));
    const ops = new Set(checked.rules.flatMap((r) => r.ops));
    for (const op of ['file-read*', 'file-write*', 'process-exec', 'file-read-metadata', 'network-outbound', 'file-write-data']) expect(ops.has(op), op).toBe(true);
  });

  it('policies with nothing to protect, no tmpfs, no rules at all', () => {
    checkProfile(sbplOf(policyOf([rule('read', '/usr'), rule('write', PROJECT)]), { protect: [], runDir: undefined }));
    checkProfile(sbplOf(policyOf([]), { protect: [], runDir: undefined }));
    checkProfile(sbplOf(policyOf([rule('tmpfs', HOME)], 'host'), { protect: [] }));
    checkProfile(sbplOf(policyOf(EVERY_KIND), { terminalIoctl: false }));
  });

  it('the reader itself refuses what is not well-formed', () => {
    expect(() => parseSbpl('(version 1)(deny default')).toThrow(/unbalanced/);
    expect(() => parseSbpl('(version 1))')).toThrow(/unbalanced/);
    expect(() => parseSbpl('(allow file-read* (literal "/a\n"))')).toThrow(/odd string/);
    expect(() => parseSbpl('(allow file-read* (literal "/a))')).toThrow(/unterminated/);
    expect(() => parseSbpl('(allow file-read* (literal #"/a"))')).toThrow(/unexpected character/);
    expect(() => checkProfile({ text: '(version 1)\n(deny default)\n(allow file-read* (subpath (param "A")))', params: [] })).toThrow();
    expect(() => checkProfile({ text: '(version 1)\n(deny default)\n(allow default)', params: [] })).toThrow();
    expect(() => checkProfile({ text: '(version 1)\n(deny default)\n(allow process-exec* (literal "/a"))', params: [] })).toThrow(/operation/);
    expect(() => checkProfile({ text: '(version 1)\n(deny default)\n(allow file-read* (prefix "/a"))', params: [] })).toThrow(/unknown filter/);
  });
});

describe('syscalls.preset: default as Seatbelt rules', () => {
  const withPreset = (preset: 'default' | 'none'): Policy => ({ ...policyOf(EVERY_KIND, 'host'), syscalls: { preset, deny: [], allow: [] } });

  it('are the last rules of the profile, each a deny, exactly with the default preset', () => {
    const on = checkProfile(sbplOf(withPreset('default')));
    const off = checkProfile(sbplOf(withPreset('none')));
    expect(on.rules.length - off.rules.length).toBe(SEATBELT_DEFAULT.length);
    expect(on.rules.slice(0, off.rules.length)).toEqual(off.rules);
    const tail = on.rules.slice(off.rules.length);
    expect(tail.map((r) => r.action)).toEqual(SEATBELT_DEFAULT.map(() => 'deny'));
    expect(tail.map((r) => r.ops)).toEqual(SEATBELT_DEFAULT.map((r) => [...r.ops]));
    for (const r of SEATBELT_DEFAULT) expect(sbplOf(withPreset('default')).text).toContain(hardeningText(r));
  });

  it('cover the ground of the Linux preset: task ports, set-id programs and bits, the kernel', () => {
    const ops = new Set(SEATBELT_DEFAULT.flatMap((r) => r.ops));
    for (const op of ['mach-priv-task-port', 'mach-task-name', 'process-exec', 'file-write-setugid', 'system-kext*', 'system-privilege', 'sysctl-write']) expect(ops.has(op), op).toBe(true);
    const setid = SEATBELT_DEFAULT.find((r) => r.ops.includes('process-exec'));
    expect(setid?.filters).toEqual(['(require-any (file-mode #o4000) (file-mode #o2000))']);
    for (const r of SEATBELT_DEFAULT) expect(r.reason.length).toBeGreaterThan(15);
  });

  it('are listed for explain, with what holds whatever the preset', () => {
    expect(describeHardening('default')).toHaveLength(SEATBELT_DEFAULT.length + 1);
    expect(describeHardening('default')[0]).toBe(`(deny mach-priv-task-port): ${SEATBELT_DEFAULT[0]?.reason ?? ''}`);
    expect(describeHardening('none')).toEqual([...SAME_SANDBOX_LINES]);
  });

  it('the built-in profiles carry them, in every network mode', async () => {
    for (const { name, sbpl } of await builtinProfiles()) expect(sbpl.text, name).toContain('(deny mach-priv-task-port)');
  });
});

describe('injection: paths reach the profile only as -D parameters', () => {
  const HOSTILE = ['"', ')', '(allow default)', '\n', ';', '\\', '#"x"', '(param "HOME")', '|^$.*+?[]{}', ' '];
  /** The same segment always maps to the same hostile one, so which path contains which is unchanged, and so is depth. */
  const hostile = (path: string): string =>
    path === '/'
      ? path
      : path
          .split('/')
          .map((seg, i) => (seg === '' ? seg : `${seg}${HOSTILE[(seg.length + i) % HOSTILE.length] ?? ''}x")(allow default)(deny file-read* (subpath "/");\n(allow network*)`))
          .join('/');

  const transform = (rules: readonly MountRule[]): MountRule[] =>
    rules.map((r) => ({ ...r, path: hostile(r.path), requested: hostile(r.requested), ...(r.linkFrom === undefined ? {} : { linkFrom: hostile(r.linkFrom) }) }));
  const hostileFacts = FACTS.map((f) => ({ ...f, path: hostile(f.path), pins: f.pins.map(hostile) }));

  it.each(['none', 'host', 'filtered'] as const)('the same SBPL text for plain and hostile paths of the same shape (%s)', (mode) => {
    const plain = sbplOf(policyOf(EVERY_KIND, mode));
    const evil = sbplOf(policyOf(transform(EVERY_KIND), mode), { protect: hostileFacts, runDir: hostile(RUN_DIR), home: hostile(HOME) });
    expect(evil.text).toBe(plain.text);
    expect(evil.params.map((p) => p.name)).toEqual(plain.params.map((p) => p.name));
    checkProfile(evil);
    for (const p of evil.params) {
      // Regexes of paths (every character escaped) and the proxy's port hold no hostile string as written.
      if (p.name === 'TRAVERSE' || p.name === 'PINS' || p.name === 'PROXY_PORT' || p.name.startsWith('ANYCASE_')) continue;
      expect(p.value).toContain('(allow default)');
      expect(evil.text).not.toContain(p.value);
    }
    expect(evil.text).not.toContain('(allow default)');
    expect(evil.text).not.toContain('(subpath "/")');
  });

  it('in the plan, the hostile strings are only in -D values and in the command\'s own arguments', () => {
    const mounts = transform(EVERY_KIND);
    const policy = { ...policyOf(mounts, 'filtered'), process: { cwd: hostile(PROJECT), hostname: 'isolate' } };
    const evilCommand = `/usr/bin/ev"il)(allow default)\n`;
    const host: HostFacts = {
      platform: 'darwin',
      arch: 'arm64',
      uid: 501,
      gid: 20,
      bwrap: undefined,
      sandboxExec: { path: '/usr/bin/sandbox-exec', runDir: hostile(RUN_DIR) },
      userns: { maxUserNamespaces: undefined, unprivilegedClone: undefined, apparmorRestrict: undefined },
      env: { PATH: '/usr/bin:/bin', HOME: hostile(HOME) },
      protect: hostileFacts,
      command: { program: evilCommand, candidates: [{ path: evilCommand, real: evilCommand, isFile: true, executable: true }] } as CommandFact,
      network: { socat: undefined, shell: undefined, socketDir: '/private/var/folders/ab/cd/T/isolate-net-1' },
      prlimit: undefined,
      kernelPaths: [],
    };
    // The command must be visible: make /usr/bin readable under its hostile name's real path; and /bin, for the start wrapper's /bin/sh.
    const plan = planSandboxExec({ ...policy, filesystem: { ...policy.filesystem, mounts: [...mounts, rule('read', '/usr/bin'), rule('read', '/bin')] } }, [evilCommand, '(allow default)'], host);
    const profile = plan.argv[2] ?? '';
    expect(profile).not.toContain('(allow default)');
    plan.argv.forEach((a, i) => {
      if (!a.includes('(allow default)')) return;
      const afterDashes = i > plan.argv.indexOf('--');
      const isParam = plan.argv[i - 1] === '-D' && /^[A-Z][A-Z0-9_]*=/.test(a);
      expect(afterDashes || isParam, `argv[${i}] = ${JSON.stringify(a)}`).toBe(true);
    });
    // The -D values carry the paths verbatim (sandbox-exec splits at the first '=').
    const values = plan.argv.flatMap((a, i) => (plan.argv[i - 1] === '-D' ? [a.slice(a.indexOf('=') + 1)] : []));
    for (const r of mounts.filter((m) => governingSelf(mounts, m))) expect(values).toContain(r.path);
  });
});

function governingSelf(rules: readonly MountRule[], r: MountRule): boolean {
  return !rules.some((o) => o !== r && o.path === r.path && ['tmpfs', 'read', 'write', 'deny'].indexOf(o.kind) > ['tmpfs', 'read', 'write', 'deny'].indexOf(r.kind));
}

describe('helpers', () => {
  it('exactPathsRegex matches exactly the paths, whatever characters they hold', () => {
    const paths = ['/', '/a.b', '/x*y+z?', '/p(q)|r', '/[s]{t}', '/^u$', '/back\\slash', '/new\nline'];
    const re = new RegExp(exactPathsRegex(paths));
    for (const p of paths) expect(re.test(p), p).toBe(true);
    for (const p of ['/aXb', '/xxxy+z', '/p', '/q', '/s', '/u', '', '/a.b/c', 'x/', '/back/slash']) expect(re.test(p), p).toBe(false);
  });

  it('ancestors lists every directory above a path, root first', () => {
    expect(ancestors('/a/b/c')).toEqual(['/', '/a', '/a/b']);
    expect(ancestors('/a')).toEqual(['/']);
    expect(ancestors('/')).toEqual([]);
  });

  it('refuses a tmpfs rule without a run directory (never drops it) and a bad proxy port', () => {
    expect(() => sbplOf(policyOf([rule('tmpfs', HOME)]), { runDir: undefined })).toThrow(/per-run directory/);
    expect(() => sbplOf(policyOf([rule('read', '/usr')]), { proxyPort: 0 })).toThrow(/proxy port/);
  });
});
