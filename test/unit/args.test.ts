import { describe, expect, it } from 'vitest';
import { optionFlag, optionList, optionString, parseArgs, renderHelp, type CommandSpec } from '../../src/cli/args.js';
import { COMMANDS, doctorSpec, explainSpec, profilesSpec, runSpec } from '../../src/cli/specs.js';
import { expectIsolateError } from './expect-error.js';

describe('parseArgs: run (positionals: command)', () => {
  it('parses options before the command', () => {
    const p = parseArgs(runSpec, ['--profile', 'dev', '--json', 'make', 'test']);
    expect(p).toEqual({ options: { profile: 'dev', json: true }, positionals: ['make', 'test'] });
  });

  it('-- ends the options; everything after is the command', () => {
    const p = parseArgs(runSpec, ['--net', 'host', '--', '--help', '-p', 'x', '--']);
    expect(p.options).toEqual({ net: 'host' });
    expect(p.positionals).toEqual(['--help', '-p', 'x', '--']);
  });

  it('-- with nothing after it gives no command', () => {
    expect(parseArgs(runSpec, ['--json', '--']).positionals).toEqual([]);
  });

  it('the command starts at the first non-option: later options belong to it', () => {
    const p = parseArgs(runSpec, ['-p', 'strict', 'ls', '--help', '-la', '--profile', 'dev', '--', 'x']);
    expect(p.options).toEqual({ profile: 'strict' });
    expect(p.positionals).toEqual(['ls', '--help', '-la', '--profile', 'dev', '--', 'x']);
  });

  it('a lone - is a positional, not an option', () => {
    expect(parseArgs(runSpec, ['-', 'x']).positionals).toEqual(['-', 'x']);
  });

  it('--help and -h before the command set help', () => {
    expect(parseArgs(runSpec, ['--help']).options).toEqual({ help: true });
    expect(parseArgs(runSpec, ['-h', 'ls']).options).toEqual({ help: true });
    expect(parseArgs(runSpec, ['-h', 'ls']).positionals).toEqual(['ls']);
  });

  it('collects repeatable options in order', () => {
    const p = parseArgs(runSpec, ['--allow-read', '/a', '--env', 'X', '--allow-read=/b', '--env=Y=1', '--allow-read', '/c', 'true']);
    expect(optionList(p, 'allow-read')).toEqual(['/a', '/b', '/c']);
    expect(optionList(p, 'env')).toEqual(['X', 'Y=1']);
  });

  it('a non-repeatable option given twice keeps the last value', () => {
    expect(optionString(parseArgs(runSpec, ['--cwd', '/a', '--cwd', '/b', 'x']), 'cwd')).toBe('/b');
  });

  it('accepts --opt=value, including an empty value and values with =', () => {
    expect(parseArgs(runSpec, ['--profile=./p.yaml', 'x']).options).toEqual({ profile: './p.yaml' });
    expect(parseArgs(runSpec, ['--cwd=', 'x']).options).toEqual({ cwd: '' });
    expect(parseArgs(runSpec, ['--env=A=B=C', 'x']).options).toEqual({ env: ['A=B=C'] });
  });

  it('accepts -p value and -pvalue', () => {
    expect(parseArgs(runSpec, ['-p', 'dev', 'x']).options).toEqual({ profile: 'dev' });
    expect(parseArgs(runSpec, ['-pdev', 'x']).options).toEqual({ profile: 'dev' });
  });

  it('takes the next argument as the value even when it starts with -', () => {
    expect(parseArgs(runSpec, ['--allow-read', '-weird', 'x']).options).toEqual({ 'allow-read': ['-weird'] });
  });

  it('an unknown option is E_USAGE naming it', () => {
    const err = expectIsolateError(() => parseArgs(runSpec, ['--allow-raed', '/x', 'ls']), 'E_USAGE');
    expect(err.message).toContain('--allow-raed');
    expect(err.fix).toContain(runSpec.usage);
    expectIsolateError(() => parseArgs(runSpec, ['-x', 'ls']), 'E_USAGE');
  });

  it('a missing value is E_USAGE', () => {
    const err = expectIsolateError(() => parseArgs(runSpec, ['--profile']), 'E_USAGE');
    expect(err.message).toContain('--profile');
    expect(err.message).toContain('needs a value');
    expectIsolateError(() => parseArgs(runSpec, ['-p']), 'E_USAGE');
    expectIsolateError(() => parseArgs(runSpec, ['--json', '--allow-read']), 'E_USAGE');
  });

  it('a flag with a value is E_USAGE', () => {
    expect(expectIsolateError(() => parseArgs(runSpec, ['--json=yes', 'x']), 'E_USAGE').message).toContain('takes no value');
  });

  it('checks choices, in both forms', () => {
    expect(parseArgs(runSpec, ['--net', 'host', 'x']).options).toEqual({ net: 'host' });
    const err = expectIsolateError(() => parseArgs(runSpec, ['--net', 'bridge', 'x']), 'E_USAGE');
    expect(err.message).toContain('none, host');
    expect(err.message).toContain('bridge');
    expectIsolateError(() => parseArgs(runSpec, ['--backend=docker', 'x']), 'E_USAGE');
    expect(parseArgs(runSpec, ['--backend=bwrap', 'x']).options).toEqual({ backend: 'bwrap' });
  });

  it('--report is a run option but not an explain option', () => {
    expect(parseArgs(runSpec, ['--report', '/tmp/r.json', 'x']).options).toEqual({ report: '/tmp/r.json' });
    expectIsolateError(() => parseArgs(explainSpec, ['--report', '/tmp/r.json', 'x']), 'E_USAGE');
  });
});

describe('parseArgs: other positional modes', () => {
  it('"some": options may follow positionals', () => {
    const p = parseArgs(profilesSpec, ['show', './p.yaml', '--net', 'host', '--json']);
    expect(p).toEqual({ options: { net: 'host', json: true }, positionals: ['show', './p.yaml'] });
  });

  it('"none": a positional is E_USAGE', () => {
    expect(parseArgs(doctorSpec, ['--json']).options).toEqual({ json: true });
    expect(expectIsolateError(() => parseArgs(doctorSpec, ['extra']), 'E_USAGE').message).toContain('extra');
  });

  it('profiles does not accept --profile', () => {
    expectIsolateError(() => parseArgs(profilesSpec, ['--profile', 'x', 'show']), 'E_USAGE');
  });
});

describe('option helpers', () => {
  const p = parseArgs(runSpec, ['--json', '--cwd', '/x', '--env', 'A', 'cmd']);
  it('read typed values', () => {
    expect(optionFlag(p, 'json')).toBe(true);
    expect(optionFlag(p, 'debug')).toBe(false);
    expect(optionString(p, 'cwd')).toBe('/x');
    expect(optionString(p, 'json')).toBeUndefined();
    expect(optionList(p, 'env')).toEqual(['A']);
    expect(optionList(p, 'cwd')).toBeUndefined();
  });
});

describe('renderHelp', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as [string, CommandSpec]))('%s help lists every option', (_name, spec) => {
    const help = renderHelp(spec);
    expect(help.startsWith(`usage: ${spec.usage}\n`)).toBe(true);
    expect(help).toContain(spec.summary);
    for (const o of spec.options) {
      const line = help.split('\n').find((l) => l.includes(`--${o.long}`) && l.includes(o.help));
      expect(line, `--${o.long} missing from ${spec.name} help`).toBeDefined();
      if (o.short !== undefined) expect(line).toContain(`-${o.short}, --${o.long}`);
      if (o.value !== undefined) expect(line).toContain(`<${o.value}>`);
      if (o.repeatable === true) expect(line).toContain('(repeatable)');
      if (o.choices !== undefined) expect(line).toContain(`[${o.choices.join('|')}]`);
    }
  });

  it('run help mentions the exit codes in its summary', () => {
    expect(renderHelp(runSpec)).toMatch(/126 not executable, 127 not found/);
  });

  it('aligns option help in one column', () => {
    const lines = renderHelp(runSpec).split('\n').filter((l) => l.startsWith('  -') || l.startsWith('      --'));
    const columns = new Set(lines.map((l, i) => l.indexOf(runSpec.options[i]?.help ?? '\u0000')));
    expect(lines).toHaveLength(runSpec.options.length);
    expect(columns.size).toBe(1);
  });
});
